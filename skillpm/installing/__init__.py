"""Installing skills: a short pipeline, one module per step.

:mod:`.plan` resolves every requirement (or reads the lockfile) into plans ->
:mod:`.fetch` downloads each archive and verifies its digest, contents and
attestations -> :mod:`.place` builds each tree beside the old one and swaps it
in -> :mod:`.record` writes skills.lock. :mod:`.destinations` says where skills
go and what may be replaced there; :mod:`.pipeline` runs the steps for install,
sync and update under the lockfile's lock, and :mod:`.removal` takes a skill out.
"""
