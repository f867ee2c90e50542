"""The test suite as a regular package.

textstat (a dev dependency, for the handout's reading level) installs its own top-level `tests`
package into site-packages; a regular package here makes `tests.conftest` and friends resolve to
this folder, which pytest puts first on sys.path.
"""
