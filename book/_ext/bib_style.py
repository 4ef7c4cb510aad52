"""Author–year labels in the bibliography list, matching the author–year citations in the text.

The default pybtex style labels entries alphabetically ("[San15]"); this one labels them
"Santambrogio, 2015", "Peyré and Cuturi, 2019", "Korotin et al., 2021", sorted by author."""

import codecs

import latexcodec  # noqa: F401  (registers the ulatex codec; a dependency of pybtex)
from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle


def _last_names(entry) -> list[str]:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = []
    for person in people:
        last = " ".join(person.last_names) or " ".join(person.first_names)
        names.append(last)
    return names


def _clean(name: str) -> str:
    """A BibTeX name as plain text: accent macros decoded, braces dropped ({\\'e} -> é)."""
    return codecs.decode(name, "ulatex").replace("{", "").replace("}", "")


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        labels = []
        for entry in sorted_entries:
            names = [_clean(n) for n in _last_names(entry)]
            if len(names) == 0:
                who = entry.key
            elif len(names) == 1:
                who = names[0]
            elif len(names) == 2:
                who = f"{names[0]} and {names[1]}"
            else:
                who = f"{names[0]} et al."
            labels.append(f"{who}, {entry.fields.get('year', 'n.d.')}")
        # the same author and year twice: 2020a, 2020b
        seen: dict[str, int] = {}
        for label in labels:
            seen[label] = seen.get(label, 0) + 1
        counts: dict[str, int] = {}
        for i, label in enumerate(labels):
            if seen[label] > 1:
                counts[label] = counts.get(label, 0) + 1
                labels[i] = label + "abcdefghijklmnopqrstuvwxyz"[counts[label] - 1]
        yield from labels


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = SortingStyle


def setup(app):
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
