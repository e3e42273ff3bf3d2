from django import template

register = template.Library()


@register.filter
def percent_ci(estimate) -> str:
    """Format a proportion with its interval as '84.3% (77.1–90.0)'."""
    if estimate is None:
        return "–"
    return f"{100 * estimate.estimate:.1f}% ({100 * estimate.lower:.1f}–{100 * estimate.upper:.1f})"


@register.filter
def auc_ci(summary) -> str:
    if summary.auc is not None:
        return f"{summary.auc.auc:.3f} ({summary.auc.lower:.3f}–{summary.auc.upper:.3f})"
    if summary.auc_point is not None:
        return f"{summary.auc_point:.3f} (no CI)"
    return "–"
