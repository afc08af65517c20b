"""Publication figures for sfone: ``plot_*`` panels (return Axes) and composite figures 1-10."""
