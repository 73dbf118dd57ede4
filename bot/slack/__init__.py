"""Slack adapter: a slack-bolt AsyncApp over the shared core (Socket Mode or HTTP), Block Kit rendering."""
