"""TuyaBot above the rooms: the command line, settings, and the composition root that builds components."""
