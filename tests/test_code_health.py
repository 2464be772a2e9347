"""The package stays readable: no function above cyclomatic complexity 15 (radon) unless the comment
just above it says why, and no dead code (vulture at confidence 80)."""
import subprocess
import sys
from pathlib import Path

from radon.complexity import cc_visit

PACKAGE = Path(__file__).resolve().parents[1] / "backprop_kit"
LIMIT = 15
WHY = "# complexity:"          # the comment that says why a function may branch more


def functions(blocks):
    for block in blocks:
        yield block
        yield from functions(getattr(block, "methods", []) + getattr(block, "closures", []))


def test_no_function_is_more_complex_than_the_limit_unless_its_comment_says_why():
    too_complex = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text()
        lines = source.splitlines()
        for block in functions(cc_visit(source)):
            if block.complexity <= LIMIT or type(block).__name__ == "Class":
                continue
            above = block.lineno - 2                      # the line above the def and its decorators
            while above > 0 and lines[above].strip().startswith("@"):
                above -= 1
            if not lines[above].strip().startswith(WHY):
                too_complex.append(f"{path.relative_to(PACKAGE.parent)}:{block.lineno} {block.name} "
                                   f"({block.complexity})")
    too_complex = sorted(set(too_complex))
    assert too_complex == [], f"split these, or say why in a '{WHY}' comment above: {too_complex}"


def test_vulture_finds_no_dead_code():
    result = subprocess.run([sys.executable, "-m", "vulture", "--min-confidence", "80", str(PACKAGE)],
                            capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
