"""Small pieces shared by the forms."""
from __future__ import annotations

from wtforms import SelectMultipleField, widgets


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
