"""`kb eval` in the dashboard: upload a CSV of questions, see how the AI would do at each
threshold, and choose the threshold. Admins only: the test asks the configured responder,
which may be a paid model.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField

from opencx_bridge.engine import responders
from opencx_bridge.kb import evaluation
from opencx_bridge.outcomes import charts
from opencx_bridge.store import settings
from opencx_bridge.store.setting_specs import SettingError
from opencx_bridge.web.auth import require_admin

bp = Blueprint("kb_eval", __name__, url_prefix="/kb/eval")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_DASHBOARD_QUESTIONS = 2_000  # one web request; more with `flask kb eval`
SHOWN_ROWS = 500


class UploadForm(FlaskForm):
    questions = FileField("CSV of questions")


class ThresholdForm(FlaskForm):
    threshold = HiddenField()


@bp.get("/")
def page():
    require_admin()
    return _render()


@bp.post("/")
def run():
    require_admin()
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES:
        return _render(error="The file is larger than 5 MB: split it, or use "
                             "`flask kb eval FILE` on the server."), 413
    request.max_content_length = MAX_UPLOAD_BYTES
    form = UploadForm()
    if not form.validate_on_submit():
        return _render(error="The form expired: reload the page and upload again."), 400
    upload = form.questions.data
    if upload is None or not upload.filename:
        return _render(error="Choose a CSV file with the columns question,expected."), 422
    try:
        cases, skipped = evaluation.read_cases(upload.read().decode("utf-8-sig"))
    except UnicodeDecodeError:
        return _render(error=f"{upload.filename} is not UTF-8 text: save it as UTF-8 CSV."), 422
    except evaluation.EvalFileError as exc:
        return _render(error=f"{upload.filename}: {exc}."), 422
    if len(cases) > MAX_DASHBOARD_QUESTIONS:
        return _render(error=f"{len(cases):,} questions: the dashboard tests at most "
                             f"{MAX_DASHBOARD_QUESTIONS:,} at a time; use `flask kb eval "
                             "FILE` for more."), 422
    responder = responders.build()
    results = evaluation.run(cases, lambda question: responder.respond(question, []))
    return _render(results=results, skipped=skipped, filename=upload.filename)


@bp.post("/threshold")
def choose():
    require_admin()
    form = ThresholdForm()
    if not form.validate_on_submit():
        flash("The form expired: reload the page and try again.", "error")
        return redirect(url_for("kb_eval.page"))
    try:
        settings.set_many({"handoff_confidence_threshold": form.threshold.data or ""},
                          current_user.email)
    except SettingError as exc:
        flash(f"Threshold not changed: {exc}", "error")
        return redirect(url_for("kb_eval.page"))
    flash(f"The AI now hands off below a confidence of "
          f"{settings.get('handoff_confidence_threshold'):.2f}.", "success")
    return redirect(url_for("kb_eval.page"))


def _render(results=None, skipped=(), filename="", error=""):
    current = settings.get("handoff_confidence_threshold")
    steps = []
    curve = ""
    if results:
        thresholds = sorted({*evaluation.STEPS, current})
        steps = [evaluation.figures(results, t) for t in thresholds]
        curve = _curve(steps)
    return render_template(
        "kb_eval.html", upload_form=UploadForm(), threshold_form=ThresholdForm(),
        results=(results or [])[:SHOWN_ROWS], total=len(results or []), steps=steps,
        summary=evaluation.figures(results, current) if results else None,
        summary_line=evaluation.summary_line, percent=evaluation.percent, current=current,
        failed=evaluation.failures(results) if results else None,
        curve=curve, skipped=skipped, filename=filename, error=error,
        shown=SHOWN_ROWS)


def _curve(steps: list[evaluation.Figures]) -> str:
    labels = [f"{f.threshold:.2f}" for f in steps]
    series = [("answered", "answered (in scope)", [f.answered for f in steps]),
              ("right", "right when answered", [f.right_when_answered for f in steps]),
              ("handed_off", "handed off when it should",
               [f.handed_off_when_it_should for f in steps])]
    return charts.lines(labels, [(css, name, [None if v is None else 100 * v for v in values])
                                 for css, name, values in series],
                        "Share of questions by threshold, in percent", top=100)
