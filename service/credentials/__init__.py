"""Issued credentials, their recipients, and the public badge URLs."""
