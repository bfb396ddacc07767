"""Schemathesis hooks for .ci/contract.sh (loaded through SCHEMATHESIS_HOOKS).

Generated Idempotency-Keys are short ("0", "a"), so nearly every POST would reuse one
with another body and get the documented 422 idempotency-key-reused, never reaching the
operation itself. Each valid key is tied to its request body instead: the same key and
body still replay the stored response, a different body never collides. Invalid keys are
left alone, so their 400 is still tested.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import schemathesis

VALID_KEY = re.compile(r"[!-~]{1,200}")


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    headers = case.headers or {}
    for name, key in headers.items():
        if name.lower() == "idempotency-key" and VALID_KEY.fullmatch(str(key)):
            body = json.dumps(case.body, sort_keys=True, default=repr)
            request = f"{case.method} {case.formatted_path} {body}".encode()
            headers[name] = f"{key}-{hashlib.sha256(request).hexdigest()[:16]}"
