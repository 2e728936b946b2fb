"""Digests: select and rank matches per channel (`build`), then show them safely (`views`) as
HTML and text (`render`) and as the standard JSON payload (`payload`).

Nothing is imported here: the chat formats of the webhook channel use `views` and `payload`,
and must not load `build` (which needs the config) with them.
"""
