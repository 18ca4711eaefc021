"""homesafe"""
