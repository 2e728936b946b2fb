"""Delivery of rendered digests: `dispatch.deliver` sends one digest through the module of its
channel's kind (`monitor.channels`), which uses the senders here: SMTP (`email`), a signed POST
(`webhook`, with the chat formats `slack` and `teams`) and files (`files`).

Nothing is imported here: a channel module loads its sender when it first sends, and that must
not load the dispatcher, which loads the channel registry.
"""
