"""The embeddings client (ai/embeddings.py) against a real local server."""

import pytest
from openai_server import OpenAIServer

from opencx_bridge.ai.embeddings import BATCH, EmbeddingsClient, EmbeddingsError


@pytest.fixture
def server():
    with OpenAIServer() as running:
        running.meanings = {"parcel": 1, "package": 1, "refund": 2}
        yield running


def test_one_vector_per_text_in_order_and_in_batches(server):
    client = EmbeddingsClient(server.base_url, "nomic-embed-text", api_key="sk-secret")
    texts = ["parcel"] * (BATCH * 2) + ["package", "refund"]
    vectors = client.embed(texts)
    assert len(vectors) == len(texts) and vectors[-2] == vectors[0] != vectors[-1]
    assert [len(r["json"]["input"]) for r in server.requests] == [BATCH, BATCH, 2]
    first = server.requests[0]
    assert first["path"] == "/v1/embeddings" and first["json"]["model"] == "nomic-embed-text"
    assert first["headers"]["Authorization"] == "Bearer sk-secret"


def test_a_base_url_that_names_the_endpoint_or_carries_a_query_is_kept(server):
    assert EmbeddingsClient(server.base_url + "/embeddings", "m").url == \
        server.base_url + "/embeddings"
    azure = EmbeddingsClient("https://x.openai.azure.com/openai/deployments/e?api-version=1",
                             "m")
    assert azure.url == ("https://x.openai.azure.com/openai/deployments/e/embeddings"
                         "?api-version=1")
    with pytest.raises(ValueError):
        EmbeddingsClient("localhost:11434", "m")
    with pytest.raises(ValueError):
        EmbeddingsClient(server.base_url, "  ")


@pytest.mark.parametrize(("status", "body", "message"), [
    (404, {"error": {"message": "model 'x' not found, try pulling it first"}},
     "the embeddings server answered HTTP 404: model 'x' not found, try pulling it first"),
    (401, {"error": {"message": "bad key sk-secret"}},
     "the embeddings server answered HTTP 401 (the API key or its permissions were rejected)"),
    (200, {"data": [{"embedding": "no"}]}, "has no data[].embedding lists of numbers"),
    (200, {"data": []}, "sent 0 vectors for 1 texts"),
    (200, {"data": [{"embedding": []}]}, "empty vectors or vectors of different lengths"),
    (200, "plain text", "has no data[].embedding lists of numbers"),
])
def test_failures_say_what_went_wrong_without_the_key(server, status, body, message):
    server.embeddings_fail(status, body)
    with pytest.raises(EmbeddingsError) as failure:
        EmbeddingsClient(server.base_url, "x", api_key="sk-secret").embed(["parcel"])
    assert message in str(failure.value) and "sk-secret" not in str(failure.value)


def test_a_server_that_is_down_is_named():
    with OpenAIServer() as gone:
        url = gone.base_url
    with pytest.raises(EmbeddingsError, match="cannot reach the embeddings server at http://"):
        EmbeddingsClient(url, "m", timeout=2).embed(["parcel"])
