"""Analysts answer back: "not relevant" marks and source mutes per topic, the signed links in
digests that record them, and the suppression every channel applies (see README, *Feedback*)."""
