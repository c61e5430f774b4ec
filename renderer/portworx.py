"""The Portworx vocabulary, in one place: env vars, px-runc flags and their env twins, images,
operator Secrets, issuers, and `classify()`, what an object is to PX-Security.

Every name here is cited in ../shared/docs/px-security-facts.md. render, check and tokens import
them from here; a new Portworx env variable or flag is added here (and in its tests).

`classify` works on the object Kubernetes decodes (`kyaml.construct`: merge keys applied, tags
decoded), never on the raw text, and needs no spec.
"""
from __future__ import annotations

import re

from .errors import field_text
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up; annotations are strings here
    from typing import Any, Iterator

# --- env vars carrying keys (px-security-facts.md §1, §2.3, §5.4) ------------------------------
SYSTEM_KEY = "PORTWORX_AUTH_SYSTEM_KEY"
STORK_KEY = "PORTWORX_AUTH_STORK_KEY"
APPS_KEY = "PORTWORX_AUTH_SYSTEM_APPS_KEY"
SHARED_KEY = "PORTWORX_AUTH_JWT_SHAREDSECRET"
STORK_SECRET = "PX_SHARED_SECRET"  # Stork's (and autopilot's) copy of the Stork/apps key
STORK_ISSUER_ENV = "PX_JWT_ISSUER"
PX_KEY_ENV = (SYSTEM_KEY, STORK_KEY, APPS_KEY, SHARED_KEY)
# What every Portworx auth env var starts with, keys and settings alike (§1, §3): render's and
# check's raw-text scan (pipeline.worth_composing) looks for it.
AUTH_ENV_PREFIX = "PORTWORX_AUTH"
SECRET_ENV = PX_KEY_ENV + (STORK_SECRET,)

# The issuers Stork signs with (§5.4): its own default (and the only one before Stork 2.5.0), and
# the one the operator gives it from PX 2.6.0 on (also openstorage's client default).
STORK_DEFAULT_ISSUER = "stork.openstorage.io"
APPS_ISSUER = "apps.portworx.io"
# Issuer Stork signs with -> the Portworx env var holding the key that verifies it (§5.4).
STORK_ISSUER_KEY_ENV = {
    STORK_DEFAULT_ISSUER: STORK_KEY,
    APPS_ISSUER: APPS_KEY,
}

# --- px-runc flags pxsec owns, with their env twins (§3) ----------------------------------------
# setting name -> (flag, env twin); each flag takes one value.
SETTINGS = {
    "jwt_issuer": ("-jwt_issuer", "PORTWORX_AUTH_JWT_ISSUER"),
    "rsa_file": ("-jwt_rsa_pubkey_file", "PORTWORX_AUTH_JWT_RSA_PUBKEY"),
    "ecds_file": ("-jwt_ecds_pubkey_file", "PORTWORX_AUTH_JWT_ECDS_PUBKEY"),
    "oidc_issuer": ("-oidc_issuer", "PORTWORX_AUTH_OIDC_ISSUER"),
    "oidc_client_id": ("-oidc_client_id", "PORTWORX_AUTH_OIDC_CLIENTID"),
    "oidc_namespace": ("-oidc_custom_claim_namespace", "PORTWORX_AUTH_OIDC_CUSTOM_NAMESPACE"),
    "username_claim": ("-username_claim", "PORTWORX_AUTH_USERNAME_CLAIM"),
}
MANAGED_FLAGS = tuple(flag for flag, _ in SETTINGS.values())
FLAG_ENV_TWINS = tuple(twin for _, twin in SETTINGS.values())
FLAG_SETTING = {flag: name for name, (flag, _) in SETTINGS.items()}
ENV_SETTING = {env: name for name, (_, env) in SETTINGS.items()}
# Flags that exist only for the operator's migration and would put a secret on the command line
# (§3: twins of PORTWORX_AUTH_JWT_SHAREDSECRET and PORTWORX_AUTH_SYSTEM_KEY).
SHARED_SECRET_FLAG = "-jwt_shared_secret"
SYSTEM_KEY_FLAG = "-auth_system_key"
SECRET_FLAGS = (SHARED_SECRET_FLAG, SYSTEM_KEY_FLAG)
OWNED_FLAGS = MANAGED_FLAGS + SECRET_FLAGS
# Every env name pxsec owns on a Portworx container.
OWNED_ENV = PX_KEY_ENV + FLAG_ENV_TWINS

# Portworx's host directory, mounted at the same path in every Portworx pod (the operator's
# hostPath volume etcpwx; px-security-facts.md §3).
PWX_DIR = "/etc/pwx"
OPERATOR_PWX_VOLUME = "etcpwx"
# Public-key files, mounted read-only under /etc/pwx (shared with the px-runc container).
PUBKEY_MOUNTS = {
    "rsa": ("pxsec-jwt-rsa-pubkey", f"{PWX_DIR}/jwt-rsa-pubkey", "-jwt_rsa_pubkey_file"),
    "ecdsa": ("pxsec-jwt-ecds-pubkey", f"{PWX_DIR}/jwt-ecds-pubkey", "-jwt_ecds_pubkey_file"),
}
PXSEC_VOLUME_PREFIX = "pxsec-"

# --- the operator (§2) ---------------------------------------------------------------------------
MISC_ARGS = "portworx.io/misc-args"
# What the operator reads to know the versions it runs (util.go GetPortworxVersion, GetStorkVersion):
# a px image in spec.env (PX_IMAGE), these annotations, a release manifest URL in spec.env.
PX_IMAGE_ENV = "PX_IMAGE"
PX_RELEASE_MANIFEST_ENV = "PX_RELEASE_MANIFEST_URL"
PX_VERSION_ANNOTATION = "portworx.io/px-version"
STORK_VERSION_ANNOTATION = "portworx.io/stork-version"
# util.go StorageClassEnabled: the operator makes its default StorageClasses unless this parses as true.
DISABLE_SC_ANNOTATION = "portworx.io/disable-storage-class"
# The DaemonSet chart copies its envVars and misc values into this annotation (helm_vars.py).
HELM_VARS_ANNOTATION = "portworx.com/helm-vars"
OPERATOR_ISSUER = "operator.portworx.io"
OPERATOR_SYSTEM_SECRET = "px-system-secrets"
OPERATOR_SYSTEM_KEY = "system-secret"
OPERATOR_APPS_KEY = "apps-secret"
OPERATOR_SHARED_SECRET_KEY = "shared-secret"
DEFAULT_SHARED_SECRET = "px-shared-secret"
ADMIN_TOKEN_SECRET = "px-admin-token"  # the operator's admin token (key auth-token)
# Secrets the operator creates and rewrites on every reconcile (component/auth.go)
OPERATOR_OWNED_SECRETS = (OPERATOR_SYSTEM_SECRET, DEFAULT_SHARED_SECRET, ADMIN_TOKEN_SECRET, "px-user-token")
STORAGECLUSTER_GROUP = "core.libopenstorage.org/"

# --- StorageClasses: volume requests carry a token (§2.4) ----------------------------------------
CSI_PROVISIONER = "pxd.portworx.com"
INTREE_PROVISIONER = "kubernetes.io/portworx-volume"
CSI_SECRET_PARAMS = tuple(f"csi.storage.k8s.io/{op}-secret-{part}"
                          for op in ("provisioner", "node-publish", "controller-expand") for part in ("name", "namespace"))
AUTH_SECRET_PREFIX = "openstorage.io/auth-secret-"  # in-tree token parameters and PVC/Stork annotations
INTREE_SECRET_PARAMS = (AUTH_SECRET_PREFIX + "name", AUTH_SECRET_PREFIX + "namespace")
TOKEN_KEY = "auth-token"  # the key of the token Secret Portworx reads (openstorage pkg/auth/secrets)
USER_TOKEN_SECRET = "px-user-token"  # created and refreshed by the operator in the StorageCluster's namespace
PVC_NAMESPACE = "${pvc.namespace}"  # CSI template: one token Secret per tenant namespace


def storageclass_kind(obj: Any) -> str | None:
    """'csi' | 'intree' for a Portworx StorageClass, else None."""
    if not isinstance(obj, dict) or obj.get("kind") != "StorageClass" \
            or not str(obj.get("apiVersion", "")).startswith("storage.k8s.io/"):
        return None
    return {CSI_PROVISIONER: "csi", INTREE_PROVISIONER: "intree"}.get(obj.get("provisioner"))


# --- other objects that carry a token (issue 22) ---------------------------------------------------
# VolumeSnapshotClass (snapshot.storage.k8s.io) of the Portworx CSI driver: the CSI snapshotter
# passes the Secret these parameters name to CreateSnapshot/DeleteSnapshot and ListSnapshots
# (external-snapshotter pkg/utils/util.go SnapshotterSecretParams, SnapshotterListSecretParams),
# and Portworx reads key auth-token of it (openstorage csi/csi.go setupContext).
SNAPSHOT_GROUP = "snapshot.storage.k8s.io/"
SNAPSHOTTER_SECRET_PARAMS = ("csi.storage.k8s.io/snapshotter-secret-name",
                             "csi.storage.k8s.io/snapshotter-secret-namespace")
SNAPSHOTTER_LIST_SECRET_PARAMS = ("csi.storage.k8s.io/snapshotter-list-secret-name",
                                  "csi.storage.k8s.io/snapshotter-list-secret-namespace")
# The snapshotter resolves this in the create/delete Secret's namespace (GetSecretReference); the
# list Secret is resolved without a VolumeSnapshot, so only a literal namespace works there.
VOLUMESNAPSHOT_NAMESPACE = "${volumesnapshot.namespace}"
# Annotations naming the token Secret on a PVC (openstorage api/server/middleware_auth.go
# parseSecret) and on Stork objects (stork drivers/volume/portworx/portworx.go getUserVolDriver,
# mergeAuthLabels): the same keys as the in-tree StorageClass parameters.
AUTH_SECRET_ANNOTATIONS = INTREE_SECRET_PARAMS
PVC_PROVISIONER_ANNOTATIONS = ("volume.beta.kubernetes.io/storage-provisioner",
                               "volume.kubernetes.io/storage-provisioner")
PVC_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
STORK_API_GROUP = "stork.libopenstorage.org"  # Stork's CRDs; render's raw-text scan looks for it
STORK_GROUP = f"{STORK_API_GROUP}/"
# Annotation on a Secret that Stork leaves out of backups and migrations; the operator marks its key
# and token Secrets with it, value "true" (px-security-facts.md §2.1).
STORK_SKIP_RESOURCE = "stork.libopenstorage.org/skip-resource"
# StorageClass parameter by which the operator's default snapshot classes ask Stork for a daily
# snapshot schedule (component/portworx_sc.go; its value names the schedule policy).
STORK_DAILY_SCHEDULE_PARAM = "snapshotschedule.stork.libopenstorage.org/daily-schedule"
CLUSTERPAIR = "ClusterPair"
# Stork kinds whose annotations Stork reads for the token -> whether Stork substitutes ${pvc.namespace}
# in them (ApplicationBackup: getUserToken with the PVC's namespace; the others pass "", "templatized
# ns not supported"). Schedules copy their annotations to what they create (migrationschedule.go,
# applicationbackupschedule.go, snapshotschedule.go). ApplicationRestore is not here: Stork takes the
# restore's token from the backup's volume info (StartRestore), never from its annotations.
STORK_TOKEN_KINDS = {"Migration": False, "MigrationSchedule": False, "ApplicationBackup": True,
                     "ApplicationBackupSchedule": True, "VolumeSnapshotSchedule": False}


def is_snapshotclass(obj: Any) -> bool:
    """A VolumeSnapshotClass of the Portworx CSI driver."""
    return isinstance(obj, dict) and obj.get("kind") == "VolumeSnapshotClass" \
        and str(obj.get("apiVersion", "")).startswith(SNAPSHOT_GROUP) and obj.get("driver") == CSI_PROVISIONER


def is_stork_object(obj: Any) -> bool:
    """A Stork object that carries a token: STORK_TOKEN_KINDS, or a ClusterPair (options.token)."""
    return isinstance(obj, dict) and (obj.get("kind") in STORK_TOKEN_KINDS or obj.get("kind") == CLUSTERPAIR) \
        and str(obj.get("apiVersion", "")).startswith(STORK_GROUP)


def is_pvc(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("kind") == "PersistentVolumeClaim" and obj.get("apiVersion") == "v1"


def pvc_intree(obj: Any, intree_classes: set) -> bool:
    """A PVC that asks the in-tree Portworx provisioner: its class is one of `intree_classes` (names
    of in-tree Portworx StorageClasses), or the PV controller's annotation names the provisioner."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    if any(ann.get(a) == INTREE_PROVISIONER for a in PVC_PROVISIONER_ANNOTATIONS):
        return True
    cls = get(obj, "spec", "storageClassName")
    if cls is None:
        cls = ann.get(PVC_CLASS_ANNOTATION)
    return isinstance(cls, str) and cls in intree_classes


# --- containers -----------------------------------------------------------------------------------
# A container is Portworx, Stork or autopilot when it has that name or runs that image repository
# from any registry: the image matches `(^|/)REPO(:|@|$)`. image_pattern() is that pattern (the
# admission policy's CEL `matches` uses it); runs_image() decides as re.search with it does
# without compiling it (three patterns cost 0.7 ms of every start; tests hold the two together).
OCI_MONITOR_REPO, STORK_REPO, AUTOPILOT_REPO = "portworx/oci-monitor", "openstorage/stork", "portworx/autopilot"
SHELLS = {"sh", "bash", "ash", "dash", "ksh", "zsh", "busybox"}


def image_pattern(repo: str) -> str:
    """The regex an image matches when it runs `repo` (a repository path of letters, digits, `/`
    and `-`: nothing in it is special to Python's re or RE2)."""
    return f"(^|/){repo}(:|@|$)"


def runs_image(image: str, repo: str) -> bool:
    """re.search(image_pattern(repo), image) is not None, without re: `repo` at the start or
    after a `/`, then `:`, `@` or the end (re's `$`: the very end, or before a final newline)."""
    at, last = image.find(repo), len(image) - len(repo)
    while at >= 0:
        end = at + len(repo)
        if (at == 0 or image[at - 1] == "/") and (
                at == last or image[end] in ":@" or (at == last - 1 and image[end] == "\n")):
            return True
        at = image.find(repo, at + 1)
    return False


def is_portworx_container(name: Any, image: Any) -> bool:
    return name == "portworx" or (isinstance(image, str) and runs_image(image, OCI_MONITOR_REPO))


def is_stork_container(name: Any, image: Any) -> bool:
    return name == "stork" or (isinstance(image, str) and runs_image(image, STORK_REPO))


def is_autopilot_container(name: Any, image: Any) -> bool:
    return name == "autopilot" or (isinstance(image, str) and runs_image(image, AUTOPILOT_REPO))


def shell_wrapped(command: Any) -> bool:
    """True when a container's command runs a shell script (`sh -c "..."`): flags appended to
    `args` then become the script's $0, $1 and never reach px-runc."""
    if not isinstance(command, list) or not command or not isinstance(command[0], str):
        return False
    prog = command[0].rsplit("/", 1)[-1]
    if prog == "env":  # env [VAR=x ...] sh -c
        rest = [c for c in command[1:] if isinstance(c, str) and "=" not in c and not c.startswith("-")]
        prog = rest[0].rsplit("/", 1)[-1] if rest else ""
    return prog in SHELLS or bool(re.fullmatch(r"(ba|z|k|da)?sh[0-9.]*", prog))


# --- kinds and roles ------------------------------------------------------------------------------
PORTWORX, STORK, AUTOPILOT, STORAGECLUSTER, LIST = "portworx", "stork", "autopilot", "storagecluster", "list"
STORAGECLASS = "storageclass"
SNAPSHOTCLASS, PVC, STORK_OBJECT = "snapshotclass", "pvc", "storkobject"
TOKEN_ROLES = (SNAPSHOTCLASS, PVC, STORK_OBJECT)  # objects spec.tokens points at the token Secret
WORKLOADS = (PORTWORX, STORAGECLUSTER)
# kind -> path of the pod spec in it
POD_SPEC_PATHS = {
    "DaemonSet": ("spec", "template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
}


def get(d: Any, *path: Any) -> Any:
    for p in path:
        if isinstance(d, dict):
            d = d.get(p)
        elif isinstance(d, list) and isinstance(p, int) and 0 <= p < len(d):
            d = d[p]
        else:
            return None
    return d


# Pod-template shapes of kinds pxsec has never heard of (kubelet-and-stream-facts.md "Objects that
# carry a pod template": CRDs copy the shapes of Deployment and CronJob).
GENERIC_POD_PATHS = (("spec", "template", "spec"), ("spec", "jobTemplate", "spec", "template", "spec"))


def pod_spec_paths(obj: Any) -> list[tuple]:
    """Paths of the pod specs an object carries: its kind's own path, or, for any other kind, each
    generic pod-template shape that holds a `containers` list."""
    if not isinstance(obj, dict):
        return []
    kind = obj.get("kind")
    if kind in POD_SPEC_PATHS:
        return [POD_SPEC_PATHS[kind]]
    return [p for p in GENERIC_POD_PATHS if isinstance(get(obj, *p, "containers"), list)]


def pod_spec(obj: Any) -> Any:
    paths = pod_spec_paths(obj)
    return get(obj, *paths[0]) if paths else None


def containers(obj: Any, keys: tuple[str, ...] = ("initContainers", "containers")) -> Iterator[tuple[str, int, dict]]:
    """(list key, index, container) of every container of an object's pod spec."""
    pod = pod_spec(obj)
    for key in keys:
        items = get(pod, key)
        if isinstance(items, list):
            for i, ct in enumerate(items):
                if isinstance(ct, dict):
                    yield key, i, ct


def is_list(obj: Any) -> bool:
    """Any object with an `items` list, whatever its kind: kubectl applies its items instead of it
    (cli-runtime FlattenListVisitor, meta.IsListType: `v1 List`, `DaemonSetList`, even `kind: Foo`)."""
    return isinstance(obj, dict) and isinstance(obj.get("items"), list)


def classify(obj: Any) -> str | None:
    """PORTWORX | STORK | AUTOPILOT | STORAGECLUSTER | STORAGECLASS | SNAPSHOTCLASS | PVC | STORK_OBJECT
    | LIST, or None for everything else."""
    if not isinstance(obj, dict):
        return None
    kind = obj.get("kind")
    if is_list(obj):
        return LIST
    if storageclass_kind(obj):
        return STORAGECLASS
    if is_snapshotclass(obj):
        return SNAPSHOTCLASS
    if is_pvc(obj):
        return PVC
    if is_stork_object(obj):
        return STORK_OBJECT
    if kind == "StorageCluster" and isinstance(obj.get("apiVersion"), str) \
            and obj["apiVersion"].startswith(STORAGECLUSTER_GROUP):
        return STORAGECLUSTER
    found = [(key, ct) for key, _, ct in containers(obj)]  # any pod-template shape, known kind or not
    if any(is_portworx_container(ct.get("name"), ct.get("image")) for _, ct in found):
        return PORTWORX
    if kind == "Deployment":
        if any(key == "containers" and is_stork_container(ct.get("name"), ct.get("image")) for key, ct in found):
            return STORK
        if any(key == "containers" and is_autopilot_container(ct.get("name"), ct.get("image")) for key, ct in found):
            return AUTOPILOT
    return None


def refusal(obj: dict) -> tuple[str, str] | None:
    """(field, reason) when a Portworx object has a shape pxsec cannot secure safely."""
    found = refusal_at(obj)
    return None if found is None else (field_text(found[0]), found[1])


def refusal_at(obj: dict) -> tuple[tuple, str] | None:
    """(node path of the field, reason) when a Portworx object has a shape pxsec cannot secure safely."""
    kind = obj.get("kind")
    found = [(k, i) for k, i, ct in containers(obj, ("containers",))
             if is_portworx_container(ct.get("name"), ct.get("image"))]
    if kind != "DaemonSet":
        return (("kind",), f"a Portworx container runs in a {kind}: Portworx runs as a DaemonSet (or through the "
                           f"operator's StorageCluster), and pxsec secures only those; refused")
    base = POD_SPEC_PATHS["DaemonSet"]
    if len(found) > 1:
        return (base + ("containers",), f"{len(found)} Portworx containers in one pod: pxsec secures one Portworx "
                                        f"container per pod, and px-runc runs once per node; refused")
    for key, i, ct in containers(obj, ("initContainers",)):
        if is_portworx_container(ct.get("name"), ct.get("image")):
            return (base + (key, i), "an init container runs Portworx: pxsec secures only the Portworx "
                                     "container of the pod; refused")
    for key, i, ct in containers(obj, ("containers",)):
        if is_portworx_container(ct.get("name"), ct.get("image")) and shell_wrapped(ct.get("command")):
            return (base + (key, i, "command"),
                    "the Portworx container runs a shell (command: sh -c ...): px-runc arguments added to args "
                    "would become the script's $0, $1 and never reach px-runc; run px-oci-mon directly "
                    "(command/args as lists) so pxsec can secure it; refused")
    return None


# --- px-runc's argv (px-security-facts.md §3; kubelet-and-stream-facts.md "The command line") ----
TERMINATOR = "--"  # nothing after it is a px-runc flag


def flag_name(token: Any) -> str | None:
    """The flag a token names, as Go's flag package reads it: `-f`, `--f`, `-f=v`, `--f=v` -> `-f`.
    None for a value, `-`, `--` (the terminator) and `---x` (bad flag syntax to Go)."""
    if not isinstance(token, str) or len(token) < 2 or token[0] != "-" or token == TERMINATOR \
            or token.startswith("---"):
        return None
    name = token.split("=", 1)[0]
    return name[1:] if name.startswith("--") else name


class Flag:
    """One occurrence of a flag in an argv: where it is, its value and where that value is."""

    __slots__ = ("index", "flag", "value", "value_index")

    def __init__(self, index: int, flag: str, value: Any, value_index: int | None):
        self.index, self.flag, self.value, self.value_index = index, flag, value, value_index

    def __repr__(self) -> str:  # never a value: flags may carry secrets
        return f"Flag({self.index}, {self.flag})"


def scan_flags(tokens: list, want: tuple[str, ...] | frozenset | None = None) -> tuple[list[Flag], int | None]:
    """The one px-runc argv reader: every occurrence of a wanted flag (all flags when `want` is
    None) before the `--` terminator, and the terminator's index (None when absent).

    A wanted flag takes a value: `-f=v` inline, else the next token whatever it looks like (Go's
    flag package does the same for a non-boolean flag); a flag at the end has value None."""
    out: list[Flag] = []
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if tok == TERMINATOR:
            return out, i
        flag = flag_name(tok)
        if flag is None or (want is not None and flag not in want):
            i += 1
            continue
        if "=" in tok:
            out.append(Flag(i, flag, tok.split("=", 1)[1], None))
            i += 1
        elif want is None:
            out.append(Flag(i, flag, None, None))
            i += 1
        else:
            out.append(Flag(i, flag, tokens[i + 1] if i + 1 < n else None, i + 1 if i + 1 < n else None))
            i += 2
    return out, None
