"""equity"""
