// The item page's status form (templates/_item_review.html) is posted by htmx. htmx
// leaves a 4xx answer unswapped; a refused status or note (422) comes back as the status
// section with the reason, so it is swapped in like a success.
(function () {
  "use strict";
  if (window.svidokReviewReady) {
    return; // swapped-in sections bring this script again
  }
  window.svidokReviewReady = true;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "review" && event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
