"""A small HTML reader on the standard library's parser: text by element id, classes, balanced tags."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Inside an SVG, shapes close themselves (`<line ... />`).
SELF_CLOSING_OK = {"line", "rect", "path", "circle", "polyline"}


class Page(HTMLParser):
    """Parses a whole document; `text[id]` is the text inside the element with that id."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text: dict[str, str] = {}
        self.classes: dict[str, list[str]] = {}
        self.tags: list[str] = []
        self.errors: list[str] = []
        self._open: list[tuple[str, str | None]] = []
        self.feed(html)
        self.close()
        if self._open:
            self.errors.append(f"unclosed: {[tag for tag, _ in self._open]}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        element_id = found.get("id")
        if element_id:
            self.text.setdefault(element_id, "")
            self.classes[element_id] = (found.get("class") or "").split()
        self._separate()
        if tag not in VOID:
            self._open.append((tag, element_id))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in VOID and tag not in SELF_CLOSING_OK:
            self.errors.append(f"self-closed <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1][0] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {[t for t, _ in self._open[-3:]]})")
            return
        self._open.pop()
        self._separate()

    def handle_data(self, data: str) -> None:
        for _, element_id in self._open:
            if element_id:
                self.text[element_id] += data

    def _separate(self) -> None:
        # Element boundaries separate words, as a browser's text rendering would.
        self.handle_data(" ")

    def words(self, element_id: str) -> str:
        return " ".join(self.text.get(element_id, "").split())
