"""The one detector engine that production and the tests run.

- `state`: each sensor's state as numpy arrays by field, and its stored record layout;
- `fold`: hourly means folded into the state, one hour at a time, in time order;
- `conditions`: each hazard rule's condition over the rows of an hour (one function per rule);
- `emit`: the generic loop over the rule table that raises findings on rising edges, and each
  rule's figures;
- `health`: sensor-health conditions and tasks (stuck, out of range, battery, drift, silence);
- `context`: what a rule's behaviour sees;
- `sites`: each row's site (home, room, vulnerability) as arrays, built once per sites list.

Each rule is one entry of `detectors.rules.table` carrying its behaviour here (`holds`,
`figures`), its version, rooms and thresholds; nothing here names a rule outside its own function.
"""
