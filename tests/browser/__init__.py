"""Browser tests: real flows in headless Chromium against the app on 127.0.0.1."""
