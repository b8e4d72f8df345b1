import os

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses async contexts
# unless told this is fine (the browser tests only touch the database from the test thread).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
