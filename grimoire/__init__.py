"""TF Grimoire: the kit's own tooling (generation, the student's pytest loop, feedback)."""
