"""Stream processors (Faust): sessions, segments, funnels and customer metrics."""
