"""What a training ran on, as one fingerprint: the prepared data set, profile, seed and hyperparameters.

A training backup and a saved model each carry the fingerprint of what trained them, so neither is
mixed with another run's data or parameters.
"""

from __future__ import annotations

import hashlib
import json

from .config import Profile

# The parts of dataset.npz's `source` that decide its contents (not when or from which path it was made).
DATASET_KEYS = ("sha256", "seed", "profile")


class ProvenanceError(ValueError):
    """A model trained on other data or parameters than the current ones."""


def dataset_identity(source: dict) -> dict:
    return {key: source.get(key) for key in DATASET_KEYS}


def training_identity(dataset_source: dict, profile: Profile, seed: int, hyperparameters: dict) -> dict:
    """What decides a training's result; `hyperparameters` is the full set (`model_hyperparameters`)."""
    return {"data": dataset_identity(dataset_source), "profile": profile.as_dict(), "seed": seed,
            "hyperparameters": hyperparameters}


def fingerprint(identity: dict) -> str:
    """SHA-256 of the identity as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(identity: dict) -> dict:
    return {"fingerprint": fingerprint(identity), **identity}


# Written beside the identity in a record, not part of it.
NOT_IDENTITY = ("fingerprint", "weights_sha256")


def is_intact(found: dict) -> bool:
    """Whether a record's fields are still the ones its fingerprint was made from (none was edited)."""
    return found.get("fingerprint") == fingerprint({k: v for k, v in found.items() if k not in NOT_IDENTITY})


def matches(found: dict | None, identity: dict) -> bool:
    return bool(found) and found.get("fingerprint") == fingerprint(identity)


def _files(hashes: dict | None) -> str:
    return ", ".join(f"{name} {digest[:12]}" for name, digest in sorted((hashes or {}).items())) or "no files"


def describe_data(data: dict | None) -> str:
    data = data or {}
    return f"data {_files(data.get('sha256'))} (split with seed {data.get('seed')})"


def describe(identity: dict) -> str:
    """One line: the data files' hashes, seed and profile."""
    return (f"{describe_data(identity.get('data'))}, seed {identity.get('seed')}, "
            f"profile {(identity.get('profile') or {}).get('name')}")


def _changed(old: dict, new: dict) -> list[str]:
    return sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))


def differences(found: dict, identity: dict, limit: int = 300) -> str:
    """What differs between a recorded identity and the current one, e.g. `seed 7, now 8`."""
    parts = []
    if found.get("seed") != identity.get("seed"):
        parts.append(f"seed {found.get('seed')}, now {identity.get('seed')}")
    old_profile, new_profile = found.get("profile") or {}, identity.get("profile") or {}
    if old_profile.get("name") != new_profile.get("name"):
        parts.append(f"profile {old_profile.get('name')}, now {new_profile.get('name')}")
    elif old_profile != new_profile:
        parts.append(f"profile settings {', '.join(_changed(old_profile, new_profile))}")
    old_data, new_data = found.get("data") or {}, identity.get("data") or {}
    if old_data.get("sha256") != new_data.get("sha256"):
        parts.append(f"data {_files(old_data.get('sha256'))}, now {_files(new_data.get('sha256'))}")
    if old_data.get("seed") != new_data.get("seed"):
        parts.append(f"data split with seed {old_data.get('seed')}, now {new_data.get('seed')}")
    if old_data.get("profile") != new_data.get("profile"):
        parts.append(f"data prepared for profile {old_data.get('profile')}, now {new_data.get('profile')}")
    old_hp, new_hp = found.get("hyperparameters") or {}, identity.get("hyperparameters") or {}
    if old_hp != new_hp:
        parts.append(f"hyperparameters {', '.join(_changed(old_hp, new_hp))}")
    text = "; ".join(parts) or "recorded in an older format"
    return text if len(text) <= limit else text[:limit - 3] + "..."
