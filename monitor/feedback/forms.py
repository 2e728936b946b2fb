"""The in-app feedback buttons (for the inbox and the /feedback page): plain HTML forms that
POST with the page's CSRF token, so they work without JavaScript."""

from __future__ import annotations

from markupsafe import Markup

from monitor.feedback.links import ACTIONS

LABELS = {"not_relevant": "Not relevant", "mute": "Mute this source for this topic"}
MARK_PATH = "/feedback/mark"
UNDO_PATH = "/feedback/undo"


def item_buttons(item_id: int, topic: str, source_key: str, csrf: str) -> Markup:
    """A "not relevant" and a "mute this source for this topic" button for one item of one
    topic; each posts to /feedback/mark (authenticated, CSRF-checked) and comes back here."""
    hidden = Markup(
        '<input type="hidden" name="item_id" value="{}">'
        '<input type="hidden" name="topic" value="{}">'
        '<input type="hidden" name="csrf" value="{}">'
    ).format(item_id, topic, csrf)
    forms = [
        Markup(
            '<form method="post" action="{}" class="fb-form">{}'
            '<input type="hidden" name="action" value="{}">'
            '<button type="submit" class="fb-{}" title="{}">{}</button></form>'
        ).format(
            MARK_PATH,
            hidden,
            action,
            action.replace("_", "-"),
            source_key if action == "mute" else topic,
            LABELS[action],
        )
        for action in ACTIONS
    ]
    return Markup("").join(forms)


def undo_button(feedback_id: int, csrf: str) -> Markup:
    """The undo button of one active mark or mute."""
    return Markup(
        '<form method="post" action="{}" class="fb-form">'
        '<input type="hidden" name="id" value="{}">'
        '<input type="hidden" name="csrf" value="{}">'
        '<button type="submit" class="fb-undo">Undo</button></form>'
    ).format(UNDO_PATH, feedback_id, csrf)
