// Before printing (the browser's print, and the PDF edition), a display equation wider
// than the page is set in a smaller size instead of being cut at the margin.
function fitEquationsForPrint() {
  document.querySelectorAll('mjx-container[display="true"]').forEach((eq) => {
    eq.style.fontSize = "";
    const box = eq.parentElement.clientWidth;
    if (box > 0 && eq.scrollWidth > box) {
      eq.style.fontSize = Math.floor((100 * box) / eq.scrollWidth) + "%";
    }
  });
}
window.addEventListener("beforeprint", fitEquationsForPrint);
window.fitEquationsForPrint = fitEquationsForPrint;
