"""``skillpm eval``: measure what a skill variant changes in a model's answers.

The pipeline, pure modules first:

* :mod:`.cases` reads upskill's ``skill_meta.json`` test cases and builds the prompts;
* :mod:`.agentskills` reads agentskills.io's ``evals/evals.json`` as such cases;
* :mod:`.testset` picks a variant's test source, its checks and its digest (the one ``pack``
  records and eval evidence names);
* :mod:`.checks` turns a case into checks (``contains``, ``regex``, ``nvcc_compile``,
  ``cuda_kernel``, ``python_test``) and decides them; programs are run through a
  :class:`~.checks.Programs`; :mod:`.checkconfig` checks each validator's ``validator_config``
  (``schemas/validator-config.schema.json``);
* :mod:`.sass` reads what nvcc built (ptxas's resource report, cuobjdump's SASS) for ``cuda_kernel``;
* :mod:`.stats` counts outcomes into pass rates, Wilson intervals and lift;
* :mod:`.evidence` builds the evidence document (``schemas/eval-evidence.schema.json``);

then the thin I/O around them:

* :mod:`.subject` chooses the variant and reads the source (SKILL.md, tests, artifact digest);
* :mod:`.client` speaks the OpenAI chat completions API through the registry's hardened transport
  (an overall deadline per request, a bounded answer), with retries;
* :mod:`.programs` runs nvcc, cuobjdump and test scripts in temporary directories with time limits;
* :mod:`.cache` keeps each answer so an interrupted run resumes;
* :mod:`.upskill` reads results upskill wrote;
* :mod:`.run` runs the trials concurrently and puts the pieces together.
"""
