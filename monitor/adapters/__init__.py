"""The one place each library's private parts are used.

Each module here wraps what one library does not promise to keep (private attributes, private
modules, undocumented layouts). pyproject.toml bounds that library's version from above, and
tests/test_adapters.py fails when a release changes what the module relies on.
"""
