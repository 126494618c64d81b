"""Live delivery: broadcaster as a wake-up hint between processes; the event log is the truth."""
