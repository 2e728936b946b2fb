"""The one place each library's private parts are used.

Each module here wraps what one library does not promise to keep (private attributes, private
modules, undocumented layouts). pyproject.toml bounds that library's version from above, and
tests/test_adapters.py fails when a release changes what the module relies on.

aiohttp's adapter is the exception to the folder: it is monitor/fetch/aiohttp_internals.py,
since only monitor/fetch/ may import an HTTP client (tests/test_no_stray_clients.py).
"""
