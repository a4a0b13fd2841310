"""The designer's views, by concern: the page and its panes, connections, activities,
components, and the canvas. Thin over ``designer.design.services`` and ``canvas``.
"""
