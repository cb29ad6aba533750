"""Content a model does not take (its catalog input modalities) is refused before Bedrock."""

from __future__ import annotations

import pytest

from kit_runtime import errors
from kit_runtime.contracts.chat_api import ChatRequest
from tests.fakes import Reply
from tests.support.chat_api import Api, catalog, chat_model_by_input, settings_serving

IMAGE = {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}
WITH_IMAGE = {"messages": [{"role": "user", "content": [{"text": "what is this?"}, IMAGE]}]}

TEXT_ONLY = chat_model_by_input("image", accepts=False)
SEES_IMAGES = chat_model_by_input("image", accepts=True)
needs_both = pytest.mark.skipif(
    TEXT_ONLY is None or SEES_IMAGES is None,
    reason="the catalog needs a streaming chat model with image input and one without",
)


@pytest.fixture
def both_models(chat_api: Api) -> Api:
    assert TEXT_ONLY is not None and SEES_IMAGES is not None
    chat_api.use(settings_serving(TEXT_ONLY, SEES_IMAGES))
    return chat_api


@needs_both
def test_an_image_for_a_model_without_image_input_is_a_400_naming_what_it_takes(
    both_models: Api,
) -> None:
    # Given a model whose catalog facts lack image input
    assert TEXT_ONLY is not None
    accepted = list(catalog().models[TEXT_ONLY].input_modalities)
    # When an image is sent to it
    got = both_models.chat({**WITH_IMAGE, "model": TEXT_ONLY})
    # Then the caller gets 400 unsupported_content naming the model, the field and what it takes
    assert got.status == 400, got.body
    error = got.body["error"]
    assert error["code"] == "unsupported_content"
    assert error["model"] == TEXT_ONLY and error["accepted_input"] == accepted
    assert error["errors"] == [{"field": "messages[0].content[1].image", "kind": "image"}]
    assert TEXT_ONLY in error["message"] and "messages[0].content[1].image" in error["message"]
    # And Bedrock was never called
    assert both_models.server.requests == []


@needs_both
def test_the_same_image_for_a_model_with_image_input_is_served(both_models: Api) -> None:
    both_models.server.enqueue(Reply.text("a tiny png"))
    got = both_models.chat({**WITH_IMAGE, "model": SEES_IMAGES})
    assert got.status == 200, got.body
    assert len(both_models.server.requests) == 1


@needs_both
def test_a_tier_routing_to_a_text_only_model_refuses_images_too(both_models: Api) -> None:
    # Given every tier routes to the text-only model (settings_serving's first model)
    # When an image is sent by tier, Then it is refused the same way
    got = both_models.chat({**WITH_IMAGE, "tier": "fast"})
    assert got.status == 400 and got.body["error"]["code"] == "unsupported_content"


@needs_both
def test_the_stream_refuses_before_opening(both_models: Api) -> None:
    from handlers.chat import service

    request = ChatRequest.model_validate({**WITH_IMAGE, "model": TEXT_ONLY})
    with pytest.raises(errors.UnsupportedContent):
        next(iter(service().stream(request)))
    assert both_models.server.requests == []
