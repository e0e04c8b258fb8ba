"""The OpenAI-compatible responder against a real local HTTP server speaking the API."""

from __future__ import annotations

import json

import pytest
import requests
from openai_server import OpenAIServer

from opencx_bridge.ai.openai_compat import (
    GroundingArticle,
    OpenAICompatibleResponder,
    completions_url,
    is_azure_url,
)
from opencx_bridge.ai.responder import Answer, ResponderError, Turn

KEY = "sk-test-SECRET-0123456789"
GOOD = {"answer": "Shipping to Canada takes 5-7 business days.", "confidence": 0.9,
        "topic": "shipping", "wants_human": False}
ARTICLES = [
    GroundingArticle("How long does shipping to Canada take?", "5-7 business days.", "shipping"),
    GroundingArticle("Can I get a refund?", "Within 30 days of delivery.", "billing"),
]


@pytest.fixture
def server():
    with OpenAIServer() as running:
        yield running


@pytest.fixture
def session():
    with requests.Session() as shared:
        yield shared


def make(server: OpenAIServer, session=None, **kwargs) -> OpenAICompatibleResponder:
    kwargs.setdefault("api_key", KEY)
    return OpenAICompatibleResponder(server.base_url, "test-model", session=session, **kwargs)


def unavailable(responder, question: str = "shipping to canada?") -> str:
    with pytest.raises(ResponderError) as caught:
        responder.respond(question, [])
    message = str(caught.value)
    assert message.startswith("AI unavailable: ")
    assert KEY not in message
    return message


def test_valid_json_answer_and_what_is_sent(server, session):
    server.reply_json(GOOD)
    responder = OpenAICompatibleResponder(server.base_url, "llama3.1", temperature=0.7,
                                          session=session)
    answer = responder.respond("how long does shipping to canada take", [])
    assert answer == Answer(GOOD["answer"], 0.9, "shipping", False)
    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["json"]["model"] == "llama3.1" and sent["json"]["temperature"] == 0.7
    assert sent["json"]["response_format"] == {"type": "json_object"}
    assert sent["json"]["messages"][-1] == {"role": "user",
                                            "content": "how long does shipping to canada take"}


def test_images_go_as_image_url_parts_with_the_question(server, session):
    server.reply_json(GOOD)
    responder = OpenAICompatibleResponder(server.base_url, "gpt-4o-mini", session=session,
                                          reads_images=True)
    responder.respond("", [], images=["https://cdn.example/error.png"])
    assert server.requests[0]["json"]["messages"][-1] == {"role": "user", "content": [
        {"type": "text", "text": "(The customer sent only the image(s) below, with no text.)"},
        {"type": "image_url", "image_url": {"url": "https://cdn.example/error.png"}}]}


def test_works_without_an_injected_session(server):
    server.reply_json(GOOD)
    assert make(server).respond("canada?", []).topic == "shipping"


@pytest.mark.parametrize("content", [
    "```json\n" + json.dumps(GOOD) + "\n```",
    "Sure! Here is my reply:\n```\n" + json.dumps(GOOD) + "\n```\nHope that helps.",
    "Here you go: " + json.dumps(GOOD) + " -- let me know {if} anything else.",
])
def test_fenced_or_wrapped_json_is_accepted(server, session, content):
    server.reply(content)
    assert make(server, session).respond("canada?", []).text == GOOD["answer"]


@pytest.mark.parametrize(("reply", "expected"), [
    ({"answer": "", "confidence": 0.1, "topic": None, "wants_human": True},
     Answer("", 0.1, None, True)),  # an empty answer is fine when handing off
    ({"answer": " Yes. ", "confidence": 1, "wants_human": False, "topic": " "},
     Answer("Yes.", 1.0, None, False)),  # topic may be missing or blank, confidence an int
    ({"answer": "Yes.", "confidence": 0, "wants_human": False}, Answer("Yes.", 0.0)),
])
def test_edge_values_that_are_valid(server, session, reply, expected):
    server.reply_json(reply)
    assert make(server, session).respond("q", []) == expected


def test_grounding_articles_appear_in_the_system_prompt(server, session):
    asked = []

    def articles(question):
        asked.append(question)
        return [*ARTICLES, GroundingArticle("Third", "three", None)]

    server.reply_json(GOOD)
    make(server, session, articles=articles, max_articles=2).respond("refund to canada?", [])
    assert asked == ["refund to canada?"]
    system = server.requests[0]["json"]["messages"][0]
    assert system["role"] == "system"
    for text in ("How long does shipping to Canada take?", "5-7 business days.",
                 "topic: shipping", "Within 30 days of delivery.", "topic: billing"):
        assert text in system["content"]
    assert "three" not in system["content"]  # max_articles
    assert "ONLY the help articles" in system["content"]
    assert '"wants_human"' in system["content"] and "JSON" in system["content"]


def test_without_articles_the_prompt_says_none_match(server, session):
    server.reply_json(GOOD)
    make(server, session, articles=lambda q: []).respond("q", [])
    assert "(no article matches this question)" in server.requests[0]["json"]["messages"][0][
        "content"]


def test_history_is_mapped_and_limited_to_recent_turns(server, session):
    old = [Turn("customer", f"old {n}") for n in range(5)]
    recent = [Turn("customer", "hi"), Turn("ai", "Hello!"), Turn("agent", "Jo here."),
              Turn("customer", "   ")] + [Turn("customer", f"msg {n}") for n in range(6)]
    server.reply_json(GOOD)
    make(server, session).respond("and to canada?", old + recent)
    messages = server.requests[0]["json"]["messages"]
    assert messages[1:4] == [{"role": "user", "content": "hi"},
                             {"role": "assistant", "content": "Hello!"},
                             {"role": "assistant", "content": "(human agent) Jo here."}]
    assert [m["content"] for m in messages[4:-1]] == [f"msg {n}" for n in range(6)]
    assert messages[-1] == {"role": "user", "content": "and to canada?"}
    assert not any("old" in m["content"] for m in messages[1:])


@pytest.mark.parametrize(("api_key", "authorization"), [(KEY, f"Bearer {KEY}"), (None, None)])
def test_bearer_token_for_ordinary_servers(server, session, api_key, authorization):
    server.reply_json(GOOD)
    make(server, session, api_key=api_key).respond("q", [])
    headers = server.requests[0]["headers"]
    assert headers.get("Authorization") == authorization and "Api-Key" not in headers


def test_azure_gets_an_api_key_header_and_keeps_the_api_version(server):
    host = "contoso.openai.azure.com"
    url = f"https://{host}/openai/deployments/gpt-4o-mini?api-version=2024-06-01"
    server.reply_json(GOOD)
    with server.session_for(host) as session:
        responder = OpenAICompatibleResponder(url, "gpt-4o-mini", api_key=KEY, session=session)
        assert responder.respond("q", []).topic == "shipping"
    sent = server.requests[0]
    assert sent["path"] == "/openai/deployments/gpt-4o-mini/chat/completions"
    assert sent["query"] == {"api-version": "2024-06-01"}
    assert sent["headers"]["Api-Key"] == KEY
    assert "Authorization" not in sent["headers"]


def test_urls_and_host_check():
    assert completions_url("http://localhost:11434/v1/") == \
        "http://localhost:11434/v1/chat/completions"
    assert completions_url("https://api.openai.com/v1/chat/completions") == \
        "https://api.openai.com/v1/chat/completions"
    assert is_azure_url("https://x.openai.azure.com/openai/deployments/d/chat/completions")
    assert not is_azure_url("https://openai.azure.com.evil.example/v1/chat/completions")
    assert not is_azure_url("https://api.openai.com/v1/chat/completions")
    with pytest.raises(ValueError):
        completions_url("localhost:11434")


def test_response_format_rejected_is_retried_once_without_it(server, session):
    server.fail(400, {"error": {"message": "Unrecognized request argument: response_format"}})
    server.reply_json(GOOD)
    responder = make(server, session)
    assert responder.respond("q", []).confidence == 0.9
    first, second = (r["json"] for r in server.requests)
    assert "response_format" in first and "response_format" not in second
    assert first["messages"] == second["messages"]
    server.reply_json(GOOD)  # the same responder does not try it again
    responder.respond("q", [])
    assert "response_format" not in server.requests[2]["json"]


def error(message: str) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error"}}


@pytest.mark.parametrize(("replies", "expected"), [
    ([(500, error("model overloaded"))], "the model server answered HTTP 500: model overloaded"),
    ([(400, error("context length exceeded"))],  # other 400s are not retried
     "the model server answered HTTP 400: context length exceeded"),
    ([(400, error("bad response_format")), (400, error("still bad"))],  # retried only once
     "the model server answered HTTP 400: still bad"),
    ([(502, "<h1>Bad gateway</h1>")], "the model server answered HTTP 502: <h1>Bad gateway</h1>"),
    ([(401, error(f"Incorrect API key provided: {KEY[:8]}***"))],  # it quotes part of the key
     "the model server answered HTTP 401 (the API key or its permissions were rejected)"),
    ([(200, "<html>Bad gateway</html>")],
     "the model server sent a non-JSON body (HTTP 200): '<html>Bad gateway</html>'"),
    ([(200, {"object": "chat.completion", "choices": []})],
     "the model server's reply has no choices[0].message.content text"),
])
def test_server_failures(server, session, replies, expected):
    for status, body in replies:
        server.fail(status, body)
    assert unavailable(make(server, session)) == f"AI unavailable: {expected}"
    assert len(server.requests) == len(replies)


def test_timeout(server, session):
    server.reply_json(GOOD, delay=2.0)
    message = unavailable(make(server, session, timeout=0.3))
    assert message == "AI unavailable: the model server timed out after 0.3 s"


def test_connection_refused(session):
    with OpenAIServer() as gone:
        base_url = gone.base_url
    responder = OpenAICompatibleResponder(base_url, "m", api_key=KEY, session=session)
    assert "cannot reach the model server at http://127.0.0.1:" in unavailable(responder)


@pytest.mark.parametrize(("content", "expected"), [
    ("I think the answer is 42.", "model returned invalid JSON: no JSON object"),
    ('{"answer": "x", "confidence": 0.5', "model returned invalid JSON: no JSON object"),
    ('["not", "an", "object"]', "model returned invalid JSON: no JSON object"),
    (json.dumps({"answer": "x", "wants_human": False}), "'confidence' must be a number"),
    (json.dumps({"confidence": 0.5, "wants_human": False}), "'answer' must be a string"),
    (json.dumps({"answer": "x", "confidence": 0.5}), "'wants_human' must be true or false"),
    (json.dumps({**GOOD, "confidence": 7}), "from 0 to 1, got 7"),
    (json.dumps({**GOOD, "confidence": -0.1}), "from 0 to 1, got -0.1"),
    (json.dumps({**GOOD, "confidence": "0.9"}), "'confidence' must be a number"),
    (json.dumps({**GOOD, "confidence": True}), "'confidence' must be a number"),
    (json.dumps({**GOOD, "wants_human": "no"}), "'wants_human' must be true or false"),
    (json.dumps({**GOOD, "topic": 3}), "'topic' must be a string or null"),
    (json.dumps({**GOOD, "answer": "  "}), "'answer' is empty and 'wants_human' is false"),
])
def test_invalid_model_output(server, session, content, expected):
    server.reply(content)
    message = unavailable(make(server, session))
    assert message.startswith("AI unavailable: model returned invalid JSON: ")
    assert expected in message


def test_a_failing_knowledge_base_is_reported(server, session):
    def broken(question):
        raise RuntimeError("database is locked")

    message = unavailable(make(server, session, articles=broken))
    assert message == "AI unavailable: cannot load knowledge-base articles: RuntimeError"
    assert server.requests == []


def test_the_key_never_appears_in_repr_or_messages(server, session):
    responder = make(server, session)
    assert KEY not in repr(responder) and "api_key='***'" in repr(responder)
    server.fail(500, {"error": {"message": f"upstream rejected {KEY}"}})
    assert "upstream rejected ***" in unavailable(responder)


@pytest.mark.parametrize(("url", "model", "temperature"), [
    ("ftp://example.com/v1", "m", 0.2), ("http://localhost/v1", " ", 0.2),
    ("http://localhost/v1", "m", 3),
])
def test_constructor_rejects_bad_settings(url, model, temperature):
    with pytest.raises(ValueError):
        OpenAICompatibleResponder(url, model, temperature=temperature)


TURNS = [Turn("customer", "Where is my parcel?"), Turn("ai", "It ships in 2 days."),
         Turn("customer", "That is too slow, I want a human!")]


def test_summarise(server, session):
    server.reply("The customer asked where their parcel is. The AI said it ships in 2 days. "
                 "They are unhappy and want a person. Extra sentence to drop.")
    summary = make(server, session).summarise(TURNS)
    assert summary == ("The customer asked where their parcel is. The AI said it ships in 2 "
                       "days. They are unhappy and want a person.")
    sent = server.requests[0]["json"]
    assert "response_format" not in sent
    assert "At most 3 sentences" in sent["messages"][0]["content"]
    transcript = sent["messages"][1]["content"]
    assert "Customer: Where is my parcel?" in transcript
    assert "AI assistant: It ships in 2 days." in transcript


def test_summarise_fails_cleanly(server, session):
    responder = make(server, session)
    server.fail(503, {"error": {"message": "down"}})
    with pytest.raises(ResponderError, match=r"^AI unavailable: .*HTTP 503"):
        responder.summarise(TURNS)
    server.reply("   ")
    with pytest.raises(ResponderError, match="empty summary"):
        responder.summarise(TURNS)
    with pytest.raises(ResponderError, match="nothing to summarise"):
        responder.summarise([])
    server.reply("late", delay=2.0)
    with pytest.raises(ResponderError, match="timed out after 0.3 s"):
        make(server, session, timeout=0.3).summarise(TURNS)
