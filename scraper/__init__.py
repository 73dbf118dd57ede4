"""Crawling tuya.com.co and extracting each page's real content."""
