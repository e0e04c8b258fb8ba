"""WTForms for the dashboard. Flask-WTF adds the csrf_token field to each."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length

from opencx_bridge.store.users import MIN_PASSWORD


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


class FirstAdminForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD, message=f"at least {MIN_PASSWORD} characters"),
        ],
    )
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "passwords differ")]
    )


class FreshchatForm(FlaskForm):
    domain = StringField("Freshchat domain", validators=[DataRequired()])
    access_token = PasswordField("API access token")  # blank = keep the saved one
    default_agent_email = EmailField("AI agent's email", validators=[DataRequired()])
    auto_handle_all = BooleanField("Auto handle all incoming chats")
    webhook_public_key = TextAreaField("Webhook public key (optional)")


class EmptyForm(FlaskForm):
    """A form that carries only the CSRF token (buttons such as Disconnect)."""
