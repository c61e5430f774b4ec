"""Reading and writing YAML as Kubernetes does: kyaml (nodes, views, dumping), yamlsafe (the
guarded loaders), pyyaml (PyYAML as the pxsec command imports it), jsonpatch (RFC 6902 patches).
Named so it cannot be mistaken for PyYAML's `yaml`; it imports nothing from render/ or spec/."""
