"""Blank inputs are rendered once per process; anything with a value or an error is not."""

from werkzeug.datastructures import MultiDict
from wtforms import Form, HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired

from portal import form_inputs


class _TokenField(HiddenField):
    """Like the CSRF token field: no data, a value made per request."""

    def _value(self):
        return "per-request"


class _Form(Form):
    name = StringField("Name", validators=[InputRequired()])
    kind = SelectField("Kind", choices=[SelectChoice("a", "A")])
    token = _TokenField()


def test_a_blank_input_is_rendered_once_and_reused(monkeypatch):
    monkeypatch.setattr(form_inputs, "_remembered", {})
    first = form_inputs.render_input(_Form().name, placeholder="Jo")
    again = form_inputs.render_input(_Form().name, placeholder="Jo")
    assert first == again == _Form().name(placeholder="Jo")
    assert "required" in first and len(form_inputs._remembered) == 1
    # Other attributes are another input.
    assert 'placeholder="Al"' in form_inputs.render_input(_Form().name, placeholder="Al")


def test_values_errors_and_selects_are_rendered_every_time(monkeypatch):
    monkeypatch.setattr(form_inputs, "_remembered", {})
    filled = _Form(MultiDict({"name": "Ada <b>"}))
    assert 'value="Ada &lt;b&gt;"' in form_inputs.render_input(filled.name)
    invalid = _Form(MultiDict({"name": ""}))
    invalid.validate()
    assert invalid.name.errors and form_inputs.render_input(invalid.name) == invalid.name()
    form = _Form()
    form.kind.choices = [SelectChoice("b", "B")]
    assert 'value="b"' in form_inputs.render_input(form.kind)
    # Hidden inputs carry per-request values (a CSRF token renders while its data is None).
    assert 'value="per-request"' in form_inputs.render_input(form.token)
    assert form_inputs._remembered == {}
