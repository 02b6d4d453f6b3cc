import sys, json, statistics, os
import bench.gui_probe as gp
import ui.screens.pack as P
what = os.environ["EXP"]
if what == "nohighlight":
    P.PackScreen._highlight = lambda self, i: None
if what == "nomodel":
    import ui.models.order_lines as OL
    OL.OrderLinesModel.set_order = lambda self, o: None
if what == "noselect_scroll_only":
    def h(self, line_id):
        row = self.model.row_of(line_id)
        self.table.scrollTo(self.model.index(row, 0))
    P.PackScreen._highlight = h
import io, contextlib
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    gp.scan(gp.Path('/tmp/bp/station.db'), 25)
d = json.loads(buf.getvalue().strip().splitlines()[-1])
v = sorted(x[1] for x in d['parts'])
print(what, 'paint p50 %.2f p90 %.2f' % (statistics.median(v), v[int(len(v)*.9)]), file=sys.stderr)
