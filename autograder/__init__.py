"""Build, check and grading tools for the bilingual JAX course."""
