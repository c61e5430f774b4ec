"""What `pxsec check` reports: typed findings and the catalogue of rules they come from.

A finding names where a problem is (file, document index, kind/name/namespace, field path,
1-based line) and what it is. Messages carry names only (env var, Secret, key, flag): never a
value that could be a secret. Rule ids are stable; a retired id is never reused.
"""
from __future__ import annotations

from collections import namedtuple

from .. import portworx as px

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing (and dataclasses, with inspect) cost a check's start-up; annotations are strings
    from typing import Literal

    Severity = Literal["error", "warning", "note"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "note")

# Where the rules are documented: SARIF `helpUri` is DOCS_URL#<id in lower case> (the anchors of
# docs/check.md's rule table), `informationUri` is the project. One place to change on a move.
PROJECT_URL = "https://github.com/pxsec/pxsec"
DOCS_URL = PROJECT_URL + "/blob/HEAD/docs/check.md"


class Rule(namedtuple("Rule", "id name severity summary why")):
    """A rule: id (PXS000), name (kebab-case, stable), severity, summary (one line: what the rule
    finds), why (why it matters: SARIF help, docs)."""

    __slots__ = ()

    @property
    def help_uri(self) -> str:
        return f"{DOCS_URL}#{self.id.lower()}"


_RULES = (
    Rule("PXS000", "invalid-yaml", "error", "A manifest file is not valid YAML",
         "A file that does not parse cannot be checked, and kubectl/Helm would refuse it too."),
    Rule("PXS001", "security-disabled", "error", "A Portworx workload runs without PX-Security",
         "Without authorization any client that reaches the Portworx API can create, mount or delete volumes."),
    Rule("PXS002", "security-incomplete", "error", "A Portworx workload is only partly configured for PX-Security",
         f"Portworx needs an issuer (self-signed or OIDC) and {px.SYSTEM_KEY}; with one missing, "
         "authorization is not enabled or nodes cannot talk to each other."),
    Rule("PXS003", "mixed-cluster", "error", "Nodes of one Portworx cluster are secured differently",
         "The Portworx docs: mixing auth-enabled and auth-disabled nodes prevents the cluster from being fully "
         "secure; nodes with different issuers, keys or token models reject each other's tokens."),
    Rule("PXS004", "stork-missing-shared-secret", "error", f"Stork has no {px.STORK_SECRET}",
         f"Stork signs its tokens with {px.STORK_SECRET}; without it Stork runs unauthenticated and a secured "
         "Portworx refuses its calls."),
    Rule("PXS005", "stork-key-mismatch", "error", "Stork's key does not pair with the key Portworx verifies",
         f"Stork's {px.STORK_SECRET} must come from the same Secret/key as Portworx's key for the issuer Stork "
         f"signs with ({px.STORK_DEFAULT_ISSUER}: {px.STORK_KEY}; {px.APPS_ISSUER}: "
         f"{px.APPS_KEY})."),
    Rule("PXS006", "stork-issuer-refused", "error", f"Stork's {px.STORK_ISSUER_ENV} is a value Stork refuses",
         f"Stork accepts only {px.STORK_DEFAULT_ISSUER}, {px.APPS_ISSUER} and {px.OPERATOR_ISSUER}; any other value "
         "makes its Portworx driver fail to start."),
    Rule("PXS007", "stork-issuer-implicit", "note", f"Stork's {px.STORK_ISSUER_ENV} is not set",
         f"Stork then signs as {px.STORK_DEFAULT_ISSUER}, which only pairs with {px.STORK_KEY}; setting it "
         "explicitly (as the operator does) makes the pairing visible."),
    Rule("PXS008", "secret-literal", "error", "A PX-Security secret is written into the manifest",
         "Keys given as a literal `value:`, a ConfigMap or a command-line flag end up in Git, in `kubectl get` "
         "output and in process lists; use valueFrom.secretKeyRef."),
    Rule("PXS009", "pubkey-file-unmounted", "error", "A JWT public-key file path is not on a mounted volume",
         f"Portworx reads {px.SETTINGS['rsa_file'][0]} / {px.SETTINGS['ecds_file'][0]} from its container; a path that no "
         "volume provides does not exist there, and self-signed tokens cannot be verified."),
    Rule("PXS010", "pubkey-file-on-host", "note", "A JWT public-key file is read from a host path",
         "The file must then be provisioned on every node by other means; a Secret volume ships it with the "
         "manifests."),
    Rule("PXS011", "oidc-issuer-not-https", "error", "The OIDC issuer is not an https:// URL",
         "OIDC discovery and token `iss` matching need the provider's https URL; anything else cannot be "
         "verified safely."),
    Rule("PXS012", "oidc-client-id-missing", "error", "An OIDC issuer is set without a client id",
         "Portworx only configures OIDC when both the issuer and the client id are set."),
    Rule("PXS013", "username-claim-unknown", "error", "The username claim is not sub, email or name",
         "Portworx knows only these claims; any other value leaves tokens without a usable user id."),
    Rule("PXS014", "self-signed-without-key", "error", "A self-signed issuer has neither a shared secret nor a public key",
         f"Tokens of a self-signed issuer are verified with {px.SHARED_KEY} or a public key; "
         "with neither, no token of that issuer can be verified."),
    Rule("PXS015", "self-signed-issuer-url", "warning", "A self-signed issuer looks like a URL",
         "Self-signed issuers should be plain names (openstorage.io); URLs are for OIDC providers and get "
         "confused with them."),
    Rule("PXS016", "guest-access-enabled", "warning", "Guest access is enabled",
         "With guest access, calls without a token run as system.guest and can use public volumes; set "
         "spec.security.auth.guestAccess: Disabled once every client has a token."),
    Rule("PXS017", "guest-access-invalid", "error", "spec.security.auth.guestAccess has an invalid value",
         "The operator accepts exactly Enabled, Disabled or Managed (case-sensitive); anything else fails its "
         "auth component."),
    Rule("PXS018", "token-lifetime-invalid", "error", "tokenLifetime is invalid or misplaced",
         "The operator parses <integer><s|m|h|d|y> (24h, 7d) under spec.security.auth.selfSigned; compound "
         "durations fail, and the field is ignored elsewhere."),
    Rule("PXS019", "drift", "error", "The manifests differ from what `pxsec render` produces with the spec",
         "The manifests were edited after rendering, or rendered with another spec: what is deployed is not "
         "what the security spec says."),
    Rule("PXS020", "render-refused", "error", "`pxsec render` refuses these manifests with the spec",
         "render could not secure the input; fix the input or the spec."),
    Rule("PXS021", "token-reset-reminder", "note", "Reset the cluster token if this cluster is paired or migrated",
         "After enabling authorization, run `pxctl cluster token reset` and update the ClusterPair objects on "
         "the other clusters, or migrations fail with mismatched issuers."),
    Rule("PXS022", "autopilot-missing-shared-secret", "warning", f"Autopilot has no {px.STORK_SECRET}",
         f"Autopilot calls the Portworx API; with PX-Security on it needs {px.STORK_SECRET} from the apps key "
         "(the operator adds it; plain manifests must)."),
    # What render refuses or cannot see (rules_refused.py).
    Rule("PXS023", "portworx-refused", "error", "A Portworx container pxsec refuses to secure",
         "A shell-wrapped command turns the flags pxsec appends into the script's $0, $1; an init container or "
         "a kind other than a DaemonSet runs Portworx where pxsec does not secure it. `pxsec render` fails on "
         "these, and as written they run Portworx without PX-Security."),
    Rule("PXS024", "envfrom-sets-security", "error", "envFrom brings PX-Security settings or keys into Portworx",
         "envFrom turns every key of a ConfigMap or Secret into an env var; a px-runc flag twin or a key the "
         "container does not set itself reaches Portworx around its args and env, and a key in a ConfigMap is a "
         "secret outside a Secret."),
    Rule("PXS025", "envfrom-source-unseen", "note", "envFrom reads a ConfigMap or Secret that is not in the input",
         "What it sets cannot be checked: it may carry PORTWORX_AUTH_* settings or keys."),
    # StorageClasses once PX-Security is on (rules_storageclass.py).
    Rule("PXS026", "storageclass-token-missing", "error", "A Portworx StorageClass has no token while guest "
         "access is disabled", "With PX-Security on and guestAccess Disabled, Portworx refuses volume requests "
         "without a token: PVCs of this StorageClass stay Pending."),
    Rule("PXS027", "storageclass-public-volumes", "note", "A Portworx StorageClass has no token: its volumes are "
         "public", "Without token parameters, Portworx creates the volumes as the guest role: public, owned by no "
         "one."),
    Rule("PXS028", "storageclass-token-invalid", "error", "A Portworx StorageClass's token parameters are "
         f"incomplete or name a Secret without {px.TOKEN_KEY}", f"Portworx reads the token from key {px.TOKEN_KEY} "
         "of the Secret each parameter pair names (CSI: provisioner, node-publish and controller-expand); an operation "
         "without its pair, or a Secret without that key, carries no token."),
    # Other objects that carry a token (rules_tokens.py).
    Rule("PXS050", "snapshotclass-token-missing", "warning", "A Portworx VolumeSnapshotClass has no token Secret",
         "The CSI snapshotter passes the Secret named by csi.storage.k8s.io/snapshotter-secret-name/-namespace to "
         "the driver; without it, snapshots are requested without a token and Portworx refuses those of private "
         "volumes."),
    Rule("PXS051", "snapshotclass-token-invalid", "error", "A Portworx VolumeSnapshotClass's token parameters "
         "cannot be resolved", "The CSI snapshotter needs both the name and the namespace of each Secret pair, and "
         "resolves the list Secret without a VolumeSnapshot (no ${volumesnapshot.namespace} there)."),
    Rule("PXS052", "pvc-token-missing", "warning", "An in-tree Portworx PVC carries no token",
         f"Portworx reads an in-tree volume's token from the PVC's {px.AUTH_SECRET_PREFIX}* annotations, else "
         "from its StorageClass; with neither, the volume is made without a token: public, or refused."),
    Rule("PXS053", "token-annotations-invalid", "error", f"{px.AUTH_SECRET_PREFIX}* annotations that name no "
         "Secret", "Both the name and the namespace are needed, and ${pvc.namespace} is substituted only by Stork "
         "for ApplicationBackup(Schedule); PVCs, migrations and snapshot schedules read it literally."),
    Rule("PXS054", "stork-token-missing", "warning", "A Stork migration, backup or snapshot schedule carries no "
         "token", f"Stork reads the token for these objects from their {px.AUTH_SECRET_PREFIX}* annotations; "
         "without them it calls Portworx with no token and private volumes are refused."),
    Rule("PXS055", "clusterpair-token-predates-reset", "note", "A ClusterPair's token predates PX-Security",
         "A ClusterPair without the auth annotations `storkctl create clusterpair` adds for a secured cluster "
         "was likely made before security; its options.token stops working after `pxctl cluster token reset`, "
         "which enabling security requires."),
    # Operator installs and annotations (rules_operator.py).
    Rule("PXS030", "operator-owned-secret", "warning", "A Secret the Portworx operator owns is named or kept in the "
         "manifests", f"The operator rewrites {px.OPERATOR_SYSTEM_SECRET} and the selfSigned.sharedSecret Secret on every "
         "reconcile (labels, annotations, ownerReferences dropped) and deletes them with a deleteStrategy."),
    Rule("PXS031", "misc-args-ignored", "error", "px-runc arguments the operator ignores",
         f"The operator splits {px.MISC_ARGS} with google/shlex: an unsplittable string is ignored whole, "
         "and flags after an unquoted '#' are a comment."),
    Rule("PXS032", "component-issuer-unknown", "warning", "Stork/autopilot issuer pinned without a knowable "
         "pairing", "Which key Portworx gets depends on the PX and Stork versions the operator reads; an issuer "
         "pinned in spec.stork.env/spec.autopilot.env may not pair with it."),
    Rule("PXS033", "autopilot-key-overridden", "error", f"Autopilot's {px.STORK_SECRET} is not the operator's apps "
         "key", f"The operator keeps a user {px.STORK_SECRET} for autopilot, but Portworx verifies autopilot with "
         f"{px.OPERATOR_SYSTEM_SECRET}/apps-secret."),
    Rule("PXS034", "secret-in-annotation", "error", "An annotation carries a key value",
         "Annotations are readable by anyone who can read the object (the DaemonSet chart copies envVars and misc "
         f"into {px.HELM_VARS_ANNOTATION})."),
    Rule("PXS035", "stork-too-old-for-issuer", "warning", f"Stork is too old to read {px.STORK_ISSUER_ENV}",
         f"Stork before 2.5.0 ignores {px.STORK_ISSUER_ENV} and signs as {px.STORK_DEFAULT_ISSUER}."),
    Rule("PXS036", "node-misc-args-without-security", "warning", "Per-node miscArgs without the security flags",
         "spec.nodes[].miscArgs may replace the cluster's misc-args on those nodes."),
    # The process the kubelet starts (rules_process.py on the model in process.py / proof.py).
    Rule("PXS037", "process-insecure", "error", "The process the kubelet starts is not secured",
         "Judged on each container's effective environment and command line after the kubelet's rules (envFrom "
         "then env, $(VAR) expansion, command+args) and, for a StorageCluster, on the container the operator "
         "builds: a secret on a command line, a key that does not come from a Secret, a security flag produced by "
         "$(VAR) or placed after `--`, or flags that depend on a value the manifests do not tell."),
    Rule("PXS039", "portworx-key-elsewhere", "warning", "A Portworx key or setting reaches a container or "
         "source it should not", "A container other than Portworx carries a Portworx key (Stork and autopilot "
         f"carry {px.STORK_SECRET} only), or an envFrom source not in the input may set a key or setting."),
    Rule("PXS040", "operator-secret-seed-missing", "error", "A spec.env key seed reads a key the operator never "
         "writes into its own Secret", "The operator's auth component reads each spec.env seed on every reconcile; "
         f"{px.OPERATOR_SYSTEM_SECRET} holds only {px.OPERATOR_SYSTEM_KEY} and {px.OPERATOR_APPS_KEY}, so a seed "
         "from another key fails it and the operator's token Secrets stop being refreshed."),
    Rule("PXS041", "operator-overrides-user-setting", "warning", "A security value the user set is overridden or "
         "rejected by the operator", f"The operator overwrites spec.env {px.SETTINGS['jwt_issuer'][1]} with "
         "selfSigned.issuer, and its auth component fails on a guestAccess other than Enabled, Disabled, Managed."),
    Rule("PXS042", "operator-default-storageclasses", "note", "The operator's default StorageClasses carry no token "
         "while guest access is disabled", "The operator creates px-db, px-replicated, px-csi-db, ... in the "
         "cluster without token parameters; with guestAccess Disabled their PVCs are refused."),
    Rule("PXS043", "operator-token-secret-missing", "warning", "A StorageClass token Secret the operator does not "
         "create", f"The operator makes only {px.USER_TOKEN_SECRET}, in the StorageCluster's namespace; another "
         "name, or one per PVC namespace, must be created by you."),
)
RULES: dict[str, Rule] = {r.id: r for r in _RULES}
_BY_NAME = {r.name: r.id for r in _RULES}


def rule_id(token: str) -> str | None:
    """The rule a user names, by id (`PXS021`, any case) or name (`token-reset-reminder`)."""
    t = token.strip()
    return t.upper() if t.upper() in RULES else _BY_NAME.get(t.lower())


def suggest(token: str) -> str:
    """`; did you mean X?` for a misspelt rule id or name, else ``."""
    import difflib

    close = difflib.get_close_matches(token.strip().lower(), [*(i.lower() for i in RULES), *_BY_NAME], n=1)
    if not close:
        return ""
    hit = close[0].upper() if close[0].upper() in RULES else close[0]
    return f"; did you mean {hit}?"


class Finding(namedtuple("Finding", "rule_id severity message file index kind name namespace field line column "
                           "cluster", defaults=(None,) * 9)):
    """One finding (immutable; `replace` makes a changed copy). Besides rule_id, severity and
    message, all optional: file; index, the 0-based document index in its file's stream; kind,
    name, namespace; field, the field path inside the object (spec.template.spec.containers[0].env[2]);
    line, the 1-based line of the field (or of the nearest enclosing node) in `file`; column, the
    1-based column of that node on `line`; cluster, in a fleet audit (`check --cluster NAME=PATH`),
    the cluster the finding is in."""

    __slots__ = ()

    def replace(self, **changes) -> "Finding":
        return self._replace(**changes)

    @property
    def rule(self) -> Rule:
        return RULES[self.rule_id]

    @property
    def workload(self) -> str:
        """`Kind namespace/name`, or the file alone for findings about a whole file."""
        if self.kind is None and self.name is None:
            return self.file or "<input>"
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind or '?'} {ns}{self.name or '?'}"

    @property
    def tagged_message(self) -> str:
        """The message, after `[cluster] ` in a fleet audit: formats that carry no cluster field
        (GitHub annotations, JUnit text, SARIF message) name the cluster this way."""
        return f"[{self.cluster}] {self.message}" if self.cluster else self.message

    def to_dict(self) -> dict:
        return self._asdict()

    def sort_key(self) -> tuple:
        return (self.file or "", self.index if self.index is not None else -1, self.line or 0,
                self.rule_id, self.field or "", self.message)


def finding(rule_id: str, message: str, **where) -> Finding:
    return Finding(rule_id, RULES[rule_id].severity, message, **where)


class Report:
    """The findings of a check, and what it counted."""

    __slots__ = ("findings", "checked", "drift_checked", "ignored", "hidden", "notices", "baselined", "clusters")

    def __init__(self, findings: list[Finding], checked: int = 0, drift_checked: bool = False, ignored: int = 0,
                 hidden: int = 0, notices: list[str] | None = None, baselined: int = 0,
                 clusters: dict[str, Report] | None = None):
        self.findings = findings
        self.checked = checked  # Portworx, Stork and autopilot objects looked at
        self.drift_checked = drift_checked
        self.ignored = ignored  # findings of ignored rules (--ignore, config file, pxsec.io/ignore annotations)
        self.hidden = hidden  # findings below --min-severity
        self.notices = [] if notices is None else notices  # e.g. an annotation naming an unknown rule
        self.baselined = baselined  # findings left out because the --baseline file has them
        # A fleet audit: each cluster's own report, in command-line order (this report holds them
        # all, each finding tagged with its cluster). Empty for a single audit.
        self.clusters = {} if clusters is None else clusters

    def replace(self, **changes) -> Report:
        """A copy with `changes` (the lists and dicts are shared, as dataclasses.replace shares them)."""
        out = Report.__new__(Report)
        for name in Report.__slots__:
            setattr(out, name, changes.pop(name) if name in changes else getattr(self, name))
        if changes:
            raise TypeError(f"Report has no field {next(iter(changes))!r}")
        return out

    def __eq__(self, other) -> bool:
        return isinstance(other, Report) and all(getattr(self, n) == getattr(other, n) for n in Report.__slots__)

    __hash__ = None  # mutable, like the dataclass it was

    def __repr__(self) -> str:  # counts only: findings carry messages
        return (f"Report({len(self.findings)} finding(s), checked={self.checked}, ignored={self.ignored}, "
                f"hidden={self.hidden}, baselined={self.baselined}, clusters={list(self.clusters)})")

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def keep(self, wanted, counter: str) -> "Report":
        """The report with the findings `wanted(f)` accepts; the others add to `counter`
        (`hidden`, `baselined`), here and in each cluster's report: `wanted` sees each finding
        twice in a fleet, so it must not keep state (baseline.apply filters the clusters itself)."""
        kept = [f for f in self.findings if wanted(f)]
        parts = {name: part.keep(wanted, counter) for name, part in self.clusters.items()}
        return self.replace(findings=kept, clusters=parts,
                            **{counter: getattr(self, counter) + len(self.findings) - len(kept)})

    def at_least(self, severity: Severity) -> "Report":
        """The report without findings less severe than `severity` (they count as hidden)."""
        rank = SEVERITIES.index(severity)
        return self.keep(lambda f: SEVERITIES.index(f.severity) <= rank, "hidden")

    def failed(self, strict: bool = False) -> bool:
        return self.count("error") > 0 or (strict and self.count("warning") > 0)


def fleet(parts: dict[str, Report]) -> Report:
    """One report for several clusters, each audited on its own: findings in cluster order, each
    tagged with its cluster; counts added up; notices prefixed with the cluster."""
    tagged = {name: part.replace(findings=[f.replace(cluster=name) for f in part.findings])
              for name, part in parts.items()}
    return Report([f for part in tagged.values() for f in part.findings],
                  checked=sum(p.checked for p in tagged.values()),
                  drift_checked=bool(tagged) and all(p.drift_checked for p in tagged.values()),
                  ignored=sum(p.ignored for p in tagged.values()),
                  hidden=sum(p.hidden for p in tagged.values()),
                  notices=[f"{name}: {n}" for name, p in tagged.items() for n in p.notices],
                  baselined=sum(p.baselined for p in tagged.values()), clusters=tagged)
