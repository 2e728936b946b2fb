"""The archive's reader side: search keys (the topic analysis's folding for archived text and
queries), and the inbox page of the web server (recent reports by topic, search, filters).

Nothing is imported here: the CLI and the outbox load only the part they need."""
