"""Pure home physics: psychrometrics, thermal and moisture balances, damp probe, weather, mould."""
