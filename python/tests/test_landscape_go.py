"""Tests of landscape_go. They need NumPy only: those that use pandas or
pyarrow skip without them, and those that run the landscape binary skip
when there is none ($LANDSCAPE_BIN, PATH, the checkout's bin/), unless
LANDSCAPE_REQUIRE_BIN=1 (as notebooks/python_test.go sets it) makes that a
failure.

    PYTHONPATH=python python3 -m unittest discover python/tests
"""

import gc
import importlib.util
import json
import math
import os
import shutil
import tempfile
import unittest
from pathlib import Path

import numpy as np

try:
    import landscape_go as lg
except ImportError:  # not installed: the package beside this folder
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import landscape_go as lg

REPO = Path(__file__).resolve().parents[2]
ZOO = REPO / "testdata" / "zoo"



def have(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:  # in sys.modules as None: made unimportable
        return False


HAVE_PANDAS, HAVE_PYARROW = have("pandas"), have("pyarrow")

PROV_2D = {
    "tool": "landscape",
    "model": {"name": "resnet20"},
    "directions": {"kind": "random", "seed": 7},
    "grid": {"x": {"min": -1, "max": 1, "num": 3}, "y": {"min": -0.5, "max": 0.5, "num": 2}},
}
# A part file: three of the six points, a missing loss at the corner.
CSV_2D = """x,y,i,j,train_loss,train_acc
-1.0,-0.5,0,0,,10.0
0.0,-0.5,1,0,0.5,90.0
1.0,0.5,2,1,2.0,50.0
"""
JSONL_2D = """{"x":-1.0,"y":-0.5,"i":0,"j":0,"train_loss":null,"train_acc":10.0}
{"x":0.0,"y":-0.5,"i":1,"j":0,"train_loss":0.5,"train_acc":90.0}
{"x":1.0,"y":0.5,"i":2,"j":1,"train_loss":2.0,"train_acc":50.0}
"""
PROV_1D = {"tool": "landscape", "grid": {"x": {"min": 0, "max": 1, "num": 5}, "y": None}}
CSV_1D = """x,y,i,j,test_acc,test_loss
0.0,,0,,80.0,0.25
0.25,,1,,70.0,0.5
0.5,,2,,60.0,1.0
0.75,,3,,50.0,1e-05
1.0,,4,,40.0,
"""


def same(a, b):
    """Whether two arrays are equal, NaN equal to NaN."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


class Files(unittest.TestCase):
    """Surfaces written as the exports of landscape convert, by hand."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="landscape-go-test-")
        self.addCleanup(shutil.rmtree, self.dir)

    def write(self, name, text, provenance):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        if provenance is not None:
            with open(path + ".provenance.json", "w") as f:
                json.dump(provenance, f)
        return path


class ReadText(Files):
    def test_csv_2d(self):
        s = lg.read(self.write("s.csv", CSV_2D, PROV_2D))
        self.assertEqual(s.metrics, ["train_loss", "train_acc"])
        self.assertEqual(s.default_metric, "train_loss")
        self.assertEqual(s.provenance, PROV_2D)
        self.assertFalse(s.is_1d)
        self.assertIsNone(s.parquet)
        self.assertEqual(len(s), 3)
        self.assertTrue(same(s.x, [-1, 0, 1]) and same(s.y, [-0.5, 0.5]))
        self.assertEqual(s.i.tolist(), [0, 1, 2])
        self.assertEqual(s.j.tolist(), [0, 0, 1])
        nan = math.nan
        self.assertTrue(same(s.grid(), [[nan, 0.5, nan], [nan, nan, 2.0]]), s.grid())
        self.assertTrue(same(s.grid("train_acc"), [[10, 90, nan], [nan, nan, 50]]))
        self.assertTrue(same(s.values("train_acc"), [10, 90, 50]))
        self.assertIn("resnet20 3x2 grid, 3 points", repr(s))
        with self.assertRaisesRegex(KeyError, "no metric 'nope'"):
            s.grid("nope")

    def test_jsonl_reads_as_csv(self):
        c = lg.read(self.write("s.csv", CSV_2D, PROV_2D))
        j = lg.read(self.write("s.jsonl", JSONL_2D, PROV_2D))
        self.assertEqual(j.metrics, c.metrics)
        self.assertEqual(j.provenance, c.provenance)
        for m in c.metrics:
            self.assertTrue(same(j.grid(m), c.grid(m)), m)
        self.assertTrue(same(j.points_y, c.points_y) and same(j.points_x, c.points_x))

    def test_csv_1d(self):
        s = lg.read(self.write("c.csv", CSV_1D, PROV_1D))
        self.assertTrue(s.is_1d)
        self.assertIsNone(s.y)
        self.assertIsNone(s.j)
        self.assertEqual(s.default_metric, "test_loss")
        self.assertTrue(same(s.x, np.linspace(0, 1, 5)))
        self.assertTrue(same(s.grid(), [0.25, 0.5, 1.0, 1e-05, math.nan]))
        self.assertTrue(np.isnan(s.points_y).all())

    def test_without_provenance_file(self):
        # The axes then come from the points' coordinates.
        s = lg.read(self.write("s.csv", CSV_2D, None))
        self.assertEqual(s.provenance, {})
        self.assertTrue(same(s.x, [-1, 0, 1]) and same(s.y, [-0.5, 0.5]))
        self.assertTrue(same(s.grid()[1], [math.nan, math.nan, 2.0]))

    def test_not_an_export(self):
        with self.assertRaisesRegex(ValueError, "no column 'i'"):
            lg.read(self.write("other.csv", "x,y,loss\n1,2,3\n", None))

    @unittest.skipUnless(HAVE_PANDAS, "pandas is not installed (Debian: python3-pandas); Surface.frame not tested")
    def test_frame(self):
        s = lg.read(self.write("s.csv", CSV_2D, PROV_2D))
        df = s.frame()
        self.assertEqual(list(df.columns), ["x", "y", "i", "j", "train_loss", "train_acc"])
        self.assertEqual([str(t) for t in df.dtypes], ["float64", "float64", "int64", "int64", "float64", "float64"])
        self.assertEqual(df.attrs["provenance"], PROV_2D)
        z = df.pivot(index="j", columns="i", values="train_acc")
        self.assertEqual(z.loc[0, 1], 90.0)
        s1 = lg.read(self.write("c.csv", CSV_1D, PROV_1D))
        self.assertTrue(s1.frame()["j"].isna().all())

    @unittest.skipIf(HAVE_PANDAS, "pandas is installed")
    def test_frame_without_pandas(self):
        s = lg.read(self.write("s.csv", CSV_2D, PROV_2D))
        with self.assertRaisesRegex(ImportError, "python3-pandas"):
            s.frame()


class Tool(unittest.TestCase):
    def test_flags(self):
        got = lg.flags(model="resnet20", x=(-1, 1, 51), y=(-0.5, 0.5, 3), split=("train", "test"),
                       sample_seed=1, tf32=True, overwrite=False, directions=None, radii=[0.25, 1e-05],
                       checkpoint=Path("a/b.pt"))
        self.assertEqual(got, ["--model=resnet20", "--x=-1:1:51", "--y=-0.5:0.5:3", "--split=train,test",
                               "--sample-seed=1", "--tf32", "--overwrite=false", "--radii=0.25,1e-05",
                               "--checkpoint=a/b.pt"])

    def test_flags_of_float_subclasses(self):
        class Float64(float):  # as NumPy 2's float64 writes itself
            def __repr__(self):
                return "np.float64({})".format(float.__repr__(self))
        self.assertEqual(lg.flags(x=(Float64(-1), 1, 5), rise=Float64(0.5)), ["--x=-1.0:1:5", "--rise=0.5"])

    def test_binary_from_environment(self):
        old = os.environ.get("LANDSCAPE_BIN")
        self.addCleanup(lambda: os.environ.__setitem__("LANDSCAPE_BIN", old) if old else os.environ.pop("LANDSCAPE_BIN", None))
        os.environ["LANDSCAPE_BIN"] = "/nonexistent/landscape"
        with self.assertRaisesRegex(FileNotFoundError, "LANDSCAPE_BIN=/nonexistent/landscape"):
            lg.binary()


def require_binary(test):
    """Skips test without the binary, unless LANDSCAPE_REQUIRE_BIN=1."""
    try:
        return lg.binary()
    except FileNotFoundError as e:
        if os.environ.get("LANDSCAPE_REQUIRE_BIN") == "1":
            test.fail("{} (LANDSCAPE_REQUIRE_BIN=1)".format(e))
        test.skipTest(str(e))


def small_surface(out=None, **kw):
    """A 2D surface of the zoo's ResNet-20 on its 20 test samples."""
    args = dict(model="resnet20", checkpoint=ZOO / "resnet20.pt", data="npz:{}".format(ZOO / "resnet20.data.npz"),
                x=(-1, 1, 5), y=(-0.5, 0.5, 3), batch_size=8)
    args.update(kw)
    return lg.surface(out=out, **args)


class WithBinary(unittest.TestCase):
    """Tests that run the landscape binary."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="landscape-go-test-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def setUp(self):
        require_binary(self)
        if not hasattr(WithBinary, "surface"):
            WithBinary.surface = small_surface(os.path.join(self.dir, "s.parquet"))

    def test_surface_runs_the_tool(self):
        s = self.surface
        self.assertEqual(s.parquet, os.path.join(self.dir, "s.parquet"))
        self.assertEqual(s.metrics, ["train_loss", "train_acc"])
        self.assertEqual(s.provenance["model"]["name"], "resnet20")
        self.assertEqual(s.provenance["grid"]["x"], {"min": -1, "max": 1, "num": 5})
        self.assertTrue(same(s.x, np.linspace(-1, 1, 5)) and same(s.y, [-0.5, 0, 0.5]))
        z = s.grid()
        self.assertEqual(z.shape, (3, 5))
        self.assertTrue(np.all(np.isfinite(z)) and np.all(z > 0), z)
        # The point coordinates are the axes' values at their indices.
        self.assertTrue(same(s.points_x, s.x[s.i]) and same(s.points_y, s.y[s.j]))

    def test_surface_inside_a_job_array_and_a_shard(self):
        """The whole grid however the environment is set; a shard asked
        for is its part file."""
        old = {k: os.environ.get(k) for k in ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT")}

        def restore():
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.addCleanup(restore)
        os.environ.update(SLURM_ARRAY_TASK_ID="1", SLURM_ARRAY_TASK_COUNT="3")
        whole = small_surface(os.path.join(self.dir, "in_array.parquet"))
        self.assertEqual(len(whole.points_x), 15)
        part = small_surface(os.path.join(self.dir, "parts"), shard="1/3")
        self.assertEqual(part.parquet, os.path.join(self.dir, "parts", "part-00001-of-00003.parquet"))
        self.assertEqual(len(part.points_x), 5)

    def test_exports_read_as_parquet(self):
        for to in ("csv", "jsonl"):
            out = os.path.join(self.dir, "s." + to)
            lg.run("convert", self.surface.parquet, "--to", to, "--out", out)
            t = lg.read(out)
            self.assertEqual(t.provenance, self.surface.provenance)
            self.assertEqual(t.metrics, self.surface.metrics)
            for m in t.metrics:
                self.assertTrue(same(t.grid(m), self.surface.grid(m)), (to, m))

    @unittest.skipUnless(HAVE_PYARROW, "pyarrow is not installed; Parquet read only through the binary")
    def test_pyarrow_reads_as_the_binary(self):
        a = lg.read(self.surface.parquet, engine="pyarrow")
        b = lg.read(self.surface.parquet, engine="landscape")
        self.assertEqual(a.provenance, b.provenance)
        self.assertEqual(a.i.tolist(), b.i.tolist())
        self.assertEqual(a.j.tolist(), b.j.tolist())
        for m in a.metrics:
            self.assertTrue(same(a.grid(m), b.grid(m)), m)

    def test_flatness_comes_from_the_tool(self):
        f = self.surface.flatness()
        self.assertEqual(f["surface"], "resnet20")
        self.assertEqual(f["metric"], "train_loss")
        self.assertEqual(f["centre"], self.surface.grid()[1, 2])  # the grid point at (0, 0)
        for k in ("rise_r0.25", "rise_r0.5", "rise_r1", "basin_area", "negative_curvature_share"):
            self.assertIsInstance(f[k], float, k)
        self.assertIsInstance(f["width_x_at_edge"], bool)
        self.assertIsInstance(f["curvature_points"], int)
        g = self.surface.flatness(metric="train_acc", radii=[0.1], rise=5)
        self.assertEqual((g["metric"], sorted(k for k in g if k.startswith("rise_r"))), ("train_acc", ["rise_r0.1"]))
        self.assertEqual(g["threshold"], g["centre"] + 5)
        rows = lg.compare([self.surface, self.surface.parquet], names=["a", "b"])
        self.assertEqual([r["surface"] for r in rows], ["a", "b"])
        self.assertEqual(rows[0]["centre"], rows[1]["centre"])

    def test_errors_say_what_the_tool_said(self):
        with self.assertRaises(lg.LandscapeError) as e:
            small_surface(os.path.join(self.dir, "bad.parquet"), model="nope")
        self.assertNotEqual(e.exception.returncode, 0)
        self.assertIn("nope", e.exception.stderr)
        with self.assertRaises(lg.LandscapeError) as e:
            lg.run("surface", "--no-such-flag")
        self.assertEqual(e.exception.returncode, 2)
        csv_only = os.path.join(self.dir, "only.csv")
        lg.run("convert", self.surface.parquet, "--out", csv_only)
        with self.assertRaisesRegex(ValueError, "not read from a Parquet file"):
            lg.read(csv_only).flatness()

    def test_temporary_output_lives_with_the_surface(self):
        s = small_surface(x=(-1, 1, 2), y=None)
        path = s.parquet
        self.assertTrue(s.is_1d and os.path.exists(path))
        self.assertEqual(s.grid().shape, (2,))
        del s
        gc.collect()
        self.assertFalse(os.path.exists(os.path.dirname(path)))


if __name__ == "__main__":
    unittest.main()
