import logging

import pytest

from cryptohub.common.secrets import SecretMaskingFilter, mask, register_secret


def test_registered_secret_is_masked_in_any_text() -> None:
    register_secret("sk-test-MASKME-0001")
    assert mask("GET https://x/api?key=sk-test-MASKME-0001&a=1") == "GET https://x/api?key=***&a=1"


def test_short_values_are_not_treated_as_secrets() -> None:
    register_secret("ab")
    assert mask("a b ab") == "a b ab"


def test_filter_masks_message_args_and_traceback(caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk-test-MASKME-0002"
    register_secret(secret)
    logger = logging.getLogger("test.secrets")
    logger.addFilter(SecretMaskingFilter())
    try:
        with caplog.at_level(logging.INFO, logger="test.secrets"):
            logger.info("calling %s", f"https://x/?apikey={secret}")
            try:
                raise RuntimeError(f"boom {secret}")
            except RuntimeError:
                logger.exception("failed")
    finally:
        logger.filters.clear()
    assert secret not in caplog.text
    assert "apikey=***" in caplog.text
