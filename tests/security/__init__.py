"""The hostile-input suite (docs/security.md): one module per class of threat."""
