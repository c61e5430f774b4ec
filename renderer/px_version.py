"""Which Portworx and Stork versions the operator will assume for a StorageCluster.

The issuer pair the operator wires depends on them (libopenstorage/operator):
- Portworx gets `PORTWORX_AUTH_SYSTEM_APPS_KEY` when PX >= 2.6.0 and Stork >= 2.5.0, else
  `PORTWORX_AUTH_STORK_KEY` (drivers/storage/portworx/deployment.go `getEnvList`);
- Stork gets `PX_JWT_ISSUER` apps.portworx.io when PX >= 2.6.0, else stork.openstorage.io
  (drivers/storage/portworx/portworx.go `GetStorkEnvMap`).

Versions are read in the operator's order (util.go `GetPortworxVersion`): the last `PX_IMAGE`
literal in `spec.env` (replacing `spec.image`), the text after the image's last `:` read as a
strict semver (hashicorp/go-version `NewSemver`), the `portworx.io/px-version` annotation, then a
`PX_RELEASE_MANIFEST_URL` literal (`.../portworx.com/<version>/version`). Where the operator falls
back to its release manifest or to "max version", pxsec cannot know the result: None.
Stork (util.go `GetStorkVersion`): `spec.stork.image`'s tag, else the `portworx.io/stork-version`
annotation when that tag is not a version (`status.desiredImages.stork` when there is no image);
no image or no tag means "max version" (>= 2.5).
"""
from __future__ import annotations

import re

from . import lazyre, portworx as px


_SEMVER = lazyre.compile(
    r"v?([0-9]+(?:\.[0-9]+)*?)"
    r"(?:-([0-9]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*)|(?:-([A-Za-z\-~]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*)))?"
    r"(?:\+(?:[0-9A-Za-z\-~]+(?:\.[0-9A-Za-z\-~]+)*))?")
_MANIFEST = lazyre.compile(r".*portworx\.com/(.*)/version", re.S)
_INT64 = 2 ** 63 - 1


def semver(text) -> tuple[tuple[int, ...], bool] | None:
    """(segments padded to 3, has-prerelease) as go-version's NewSemver reads `text`, or None."""
    if not isinstance(text, str):
        return None
    m = _SEMVER.fullmatch(text)
    if not m:
        return None
    segs = [int(s) for s in m.group(1).split(".")]
    if any(s > _INT64 for s in segs):
        return None  # strconv.ParseInt fails
    segs += [0] * (3 - len(segs))
    return tuple(segs), bool(m.group(2) or m.group(3))


def at_least(v: tuple[tuple[int, ...], bool], floor: tuple[int, int, int]) -> bool:
    segs, pre = v
    n = max(len(segs), 3)
    a, b = segs + (0,) * (n - len(segs)), floor + (0,) * (n - 3)
    if a != b:
        return a > b
    return not pre  # 2.6.0-rc1 < 2.6.0


def _tag(image) -> str | None:
    if not isinstance(image, str):
        return None
    parts = image.split(":")
    return parts[-1] if len(parts) >= 2 else None


def _env_literals(env) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in env if isinstance(env, list) else []:
        if isinstance(e, dict) and e.get("name") in (px.PX_IMAGE_ENV, px.PX_RELEASE_MANIFEST_ENV):
            v = e.get("value")
            out[e["name"]] = v if isinstance(v, str) else ""  # valueFrom: the operator reads ""
    return out


def portworx_version(sc: dict) -> tuple[tuple[tuple[int, ...], bool] | None, str]:
    """(version, where it came from) the operator uses for this StorageCluster."""
    spec = sc.get("spec") if isinstance(sc.get("spec"), dict) else {}
    meta = sc.get("metadata") if isinstance(sc.get("metadata"), dict) else {}
    ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    image = spec.get("image").strip() if isinstance(spec.get("image"), str) else ""
    env = _env_literals(spec.get("env"))
    where = "spec.image"
    if px.PX_IMAGE_ENV in env:
        image, where = env[px.PX_IMAGE_ENV], f"spec.env {px.PX_IMAGE_ENV}"
    tag = _tag(image)
    if tag is not None and semver(tag):
        return semver(tag), f"{where} tag {tag}"
    m = _MANIFEST.match(env.get(px.PX_RELEASE_MANIFEST_ENV, ""))
    if tag is None and where == "spec.image":
        # SetDefaultsOnStorageCluster appends the release manifest's version to an untagged (or
        # absent) spec.image first (manifest/remote.go reads the URL or the image, never the
        # annotation): only a PX_RELEASE_MANIFEST_URL names that release.
        if m and semver(m.group(1)):
            return semver(m.group(1)), f"spec.env {px.PX_RELEASE_MANIFEST_ENV}"
        return None, ""
    if px.PX_VERSION_ANNOTATION in ann and semver(ann[px.PX_VERSION_ANNOTATION]):
        return semver(ann[px.PX_VERSION_ANNOTATION]), f"annotation {px.PX_VERSION_ANNOTATION}"
    if m and semver(m.group(1)):
        return semver(m.group(1)), f"spec.env {px.PX_RELEASE_MANIFEST_ENV}"
    return None, ""


def ignored_annotation(sc: dict) -> str | None:
    """The `portworx.io/px-version` value the operator will not use because spec.image has no tag
    (SetDefaultsOnStorageCluster appends the release manifest's version, then GetPortworxVersion
    reads that tag), or None."""
    meta = sc.get("metadata") if isinstance(sc.get("metadata"), dict) else {}
    ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    value = ann.get(px.PX_VERSION_ANNOTATION)
    if not isinstance(value, str) or not semver(value) or portworx_version(sc)[0] is not None:
        return None
    spec = sc.get("spec") if isinstance(sc.get("spec"), dict) else {}
    image = spec.get("image").strip() if isinstance(spec.get("image"), str) else ""
    return value if px.PX_IMAGE_ENV not in _env_literals(spec.get("env")) and _tag(image) is None else None


def with_node_env(sc: dict, node_env) -> dict:
    """The StorageCluster one node group runs with: `spec.nodes[].env` merged over `spec.env` by
    name (pkg/controller/storagecluster/update.go `overwriteClusterSpecWithNodeSpec`, applied per
    node group before `GetStoragePodSpec` builds the pod and `getEnvList` picks the key env)."""
    spec = dict(sc.get("spec") if isinstance(sc.get("spec"), dict) else {})
    merged = {e.get("name"): e for e in (spec.get("env") if isinstance(spec.get("env"), list) else [])
              if isinstance(e, dict)}
    merged.update({e.get("name"): e for e in node_env if isinstance(e, dict)})
    spec["env"] = list(merged.values())
    return {**sc, "spec": spec}


def get_status_stork(sc: dict):
    status = sc.get("status") if isinstance(sc.get("status"), dict) else {}
    images = status.get("desiredImages") if isinstance(status.get("desiredImages"), dict) else {}
    return images.get("stork") or ""


def stork_at_least_2_5(sc: dict) -> bool:
    spec = sc.get("spec") if isinstance(sc.get("spec"), dict) else {}
    stork = spec.get("stork") if isinstance(spec.get("stork"), dict) else {}
    meta = sc.get("metadata") if isinstance(sc.get("metadata"), dict) else {}
    ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    image = stork.get("image") or get_status_stork(sc)
    tag = _tag(image)
    if tag is None:
        return True  # the operator's default: max version
    v = semver(tag)
    if v is None:
        v = semver(ann.get(px.STORK_VERSION_ANNOTATION))
    return True if v is None else at_least(v, (2, 5, 0))


def stork_issuer(sc: dict) -> str | None:
    """The issuer whose key Portworx gets for Stork (so the one Stork must sign as), or None when
    the operator decides at run time (no version pxsec can read)."""
    if not stork_at_least_2_5(sc):
        return px.STORK_DEFAULT_ISSUER  # PORTWORX_AUTH_STORK_KEY whatever the PX version
    v, _ = portworx_version(sc)
    if v is None:
        return None
    return px.APPS_ISSUER if at_least(v, (2, 6, 0)) else px.STORK_DEFAULT_ISSUER
