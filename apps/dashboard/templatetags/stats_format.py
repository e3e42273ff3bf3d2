from django import template

register = template.Library()


def _missing(value) -> bool:
    # A missing result reaches a filter as None or, through a None parent, as "".
    return value is None or isinstance(value, str)


@register.filter
def percent_ci(estimate) -> str:
    """Format a proportion with its interval as '84.3% (77.0–90.0)'."""
    if _missing(estimate):
        return "–"
    return f"{100 * estimate.estimate:.1f}% ({100 * estimate.lower:.1f}–{100 * estimate.upper:.1f})"


@register.filter
def fraction(estimate) -> str:
    """Format the counts behind a proportion as '113/134'."""
    if _missing(estimate):
        return ""
    return f"{estimate.successes}/{estimate.total}"


@register.filter
def auc_ci(summary) -> str:
    """Format a rater's AUC with its DeLong interval, or the point estimate alone."""
    if summary.auc is not None:
        return f"{summary.auc.auc:.3f} ({summary.auc.lower:.3f}–{summary.auc.upper:.3f})"
    if summary.auc_point is not None:
        return f"{summary.auc_point:.3f} (no CI)"
    return "–"


@register.filter
def estimate_ci(estimate, digits: int = 3) -> str:
    """Format any result with estimate, lower and upper, such as an MRMC reader mean."""
    if _missing(estimate):
        return "–"
    value = getattr(estimate, "estimate", None)
    if value is None:
        value = getattr(estimate, "kappa", None)
    if value is None:
        value = estimate.difference
    return f"{value:.{digits}f} ({estimate.lower:.{digits}f} to {estimate.upper:.{digits}f})"


@register.filter
def pvalue(value) -> str:
    """Format a p-value to four decimals, or '< 0.0001'."""
    if not isinstance(value, (int, float)):
        return "–"
    if value < 1e-4:
        return "< 0.0001"
    return f"{value:.4f}"


@register.filter
def number(value, digits: int = 3) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    return f"{value:.{digits}f}"


@register.filter
def lookup(mapping, key):
    return mapping.get(key) if mapping else None
