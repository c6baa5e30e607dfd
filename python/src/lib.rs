//! `feynn._feynn`: the PyO3 glue between the `feynn` library and its Python package.
//!
//! The Python layer (`python/feynn/`) holds the documented API; this module holds one model
//! type, [`Core`], with the numeric work behind it. Weights are bound once, when a model is
//! made; a call borrows them (no copy) and runs without the GIL (`Python::detach`). The monomial
//! basis of each order is built once per model and reused (a small pool, so that threads calling
//! at once each get one). Every library error becomes an exception of the `feynn.errors`
//! hierarchy; a panic becomes `feynn.errors.InternalError`, never a crash of the interpreter.

#[cfg(feature = "symbolic")]
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use miette::Diagnostic;
use ndarray::{Array1, Array2, Array3, ArrayD, IxDyn};
use num_rational::BigRational;
use numpy::{IntoPyArray, PyArray2, PyArrayDyn, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use feynn_studies::efnn::forward::EfnnNet;
use feynn_studies::efnn::spec::EfnnSpec;
use feynn_studies::efnn::taylor::TaylorExpansion;
use feynn::export::{OutputCoefficients, TaylorJson};
use feynn::model::inn::{Inn, InnSpec, Scalar};
use feynn::model::weights::{Tensor, TensorStore};
use feynn::model::{Model, Network};
use feynn::numeric::action::{action, multinomial, ActionOptions};
use feynn::numeric::{Basis, Expander, Options, Plan as Engine, DEFAULT_MEMORY_LIMIT};

// ---------------------------------------------------------------------------------------------
// Errors

/// A failure of the glue or the library, raised as the named class of `feynn.errors`.
struct Raise {
    class: &'static str,
    message: String,
    attrs: Vec<(&'static str, Option<String>)>,
}

impl Raise {
    fn new(class: &'static str, message: impl Into<String>) -> Raise {
        Raise {
            class,
            message: message.into(),
            attrs: vec![],
        }
    }
    fn attr(mut self, k: &'static str, v: impl Into<String>) -> Raise {
        self.attrs.push((k, Some(v.into())));
        self
    }
    fn into_py(self, py: Python<'_>) -> PyErr {
        let made = (|| -> PyResult<PyErr> {
            let cls = py.import("feynn.errors")?.getattr(self.class)?;
            let e = cls.call1((self.message.clone(),))?;
            for (k, v) in &self.attrs {
                e.setattr(*k, v.clone())?;
            }
            Ok(PyErr::from_value(e))
        })();
        made.unwrap_or_else(|e| e)
    }
}

impl From<feynn::Error> for Raise {
    fn from(e: feynn::Error) -> Raise {
        use feynn::Error as E;
        let help = e.help().map(|h| h.to_string()).filter(|h| !h.is_empty());
        let text = match &help {
            Some(h) => format!("{e}\nhelp: {h}"),
            None => e.to_string(),
        };
        let mut r = match &e {
            E::Spec(s) => {
                // location is PATH:LINE:COL
                let mut parts = s.location.rsplitn(3, ':');
                let col = parts.next().unwrap_or("").to_string();
                let line = parts.next().unwrap_or("").to_string();
                let path = parts.next().unwrap_or("").to_string();
                Raise::new("SpecError", text)
                    .attr("line", line)
                    .attr("column", col)
                    .attr("path", path)
                    .attr("detail", s.message.clone())
            }
            E::Io { path, .. } => Raise::new("FileError", text).attr("path", path.clone()),
            E::Weights { path, .. } => Raise::new("WeightsError", text).attr("path", path.clone()),
            E::Shape {
                tensor,
                expected,
                found,
                ..
            } => Raise::new("ShapeError", text)
                .attr("tensor", tensor.clone())
                .attr("expected", expected.clone())
                .attr("found", found.clone()),
            E::TooLarge {
                predicted, limit, ..
            } => Raise::new("TooLarge", text)
                .attr("predicted", predicted.clone())
                // the library names the CLI flag; in Python the limit is `memory_limit=`
                .attr("limit", limit.trim_end_matches(" (--memory-limit)").to_string()),
            E::MissingTensor { path, tensor, .. } | E::NonFinite { path, tensor, .. } => {
                Raise::new("WeightsError", text)
                    .attr("path", path.clone())
                    .attr("tensor", tensor.clone())
            }
            E::Write { path, .. } => Raise::new("FileError", text).attr("path", path.clone()),
            E::Invalid(..) => Raise::new("InputError", text),
        };
        r.attrs.push(("help", help));
        r
    }
}

type Res<T> = std::result::Result<T, Raise>;

fn input(msg: impl Into<String>) -> Raise {
    Raise::new("InputError", msg)
}

/// Run `f` without the GIL; library errors and panics become exceptions.
fn run<T: Send>(py: Python<'_>, f: impl FnOnce() -> Res<T> + Send) -> PyResult<T> {
    let out = py.detach(move || catch_unwind(AssertUnwindSafe(f)));
    match out {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(r)) => Err(r.into_py(py)),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(Raise::new(
                "InternalError",
                format!("internal error in feynn: {msg} (please report it)"),
            )
            .into_py(py))
        }
    }
}

fn lib<T>(r: feynn::Result<T>) -> Res<T> {
    r.map_err(Raise::from)
}

// ---------------------------------------------------------------------------------------------
// Models

enum Kind {
    Mlp {
        model: Model,
        net: Option<Network>,
    },
    Inn {
        spec: InnSpec,
        inn: Inn<f64>,
        store: Option<TensorStore>,
    },
    Efnn(EfnnNet),
}

/// A prepared expansion of one order: the engine plan and its monomial basis, shared by the
/// calls of that order.
struct PlanCore {
    order: usize,
    memory_limit: f64,
    /// The plan asked for (`auto`: the cost model's choice per call) and the one it chose.
    engine: Engine,
    chosen: Engine,
    monomials: Arc<Vec<Vec<u32>>>,
    /// Bases not in use (a call takes one, or builds one if all are in use, and returns it).
    pool: Mutex<Vec<Basis>>,
}

struct Inner {
    name: String,
    kind: Kind,
    /// The spec text, where the model came from text or a state dict.
    spec: Option<String>,
    plans: Mutex<HashMap<(usize, u64, Engine), Arc<PlanCore>>>,
}

impl Inner {
    fn net(&self) -> Res<&Network> {
        match &self.kind {
            Kind::Mlp { net: Some(n), .. } => Ok(n),
            Kind::Mlp { net: None, model } => Err(input(format!(
                "model `{}` has no weights, so there are no numbers to compute\nhelp: give weights= (a file or a state dict), or ask for closed forms with closed_form()",
                model.name
            ))),
            _ => Err(input(format!(
                "`{}` is a {}; this call is for an MLP `model`",
                self.name,
                self.kind_name()
            ))),
        }
    }
    fn model(&self) -> Res<&Model> {
        match &self.kind {
            Kind::Mlp { model, .. } => Ok(model),
            _ => Err(input(format!(
                "`{}` is a {}; this call is for an MLP `model`",
                self.name,
                self.kind_name()
            ))),
        }
    }
    fn inn(&self) -> Res<(&InnSpec, &Inn<f64>, Option<&TensorStore>)> {
        match &self.kind {
            Kind::Inn { spec, inn, store } => Ok((spec, inn, store.as_ref())),
            _ => Err(input(format!(
                "`{}` is a {}; this call is for an invertible network (`inn`)",
                self.name,
                self.kind_name()
            ))),
        }
    }
    fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Mlp { .. } => "mlp",
            Kind::Inn { .. } => "inn",
            Kind::Efnn(_) => "efnn",
        }
    }
    fn inputs(&self) -> Option<usize> {
        match &self.kind {
            Kind::Mlp { net: Some(n), .. } => Some(n.inputs()),
            Kind::Mlp { model, .. } => model.fixed_widths().map(|w| w[0]),
            Kind::Inn { inn, .. } => Some(inn.n),
            Kind::Efnn(e) => match e.spec.geometry {
                feynn_studies::efnn::spec::Geometry::Dense { inputs, .. } => Some(inputs),
                _ => None,
            },
        }
    }
    fn plan(&self, order: usize, memory_limit: f64, engine: Engine) -> Res<Arc<PlanCore>> {
        let net = self.net()?;
        let key = (order, memory_limit.to_bits(), engine);
        if let Some(p) = self.plans.lock().unwrap().get(&key) {
            return Ok(p.clone());
        }
        // the library checks the activations, the memory and work budgets and builds the basis
        let opts = Options {
            order,
            memory_limit,
        };
        let ex = lib(Expander::with_plan(net, &opts, engine))?;
        let chosen = ex.plan();
        let basis = ex.into_basis();
        let p = Arc::new(PlanCore {
            order,
            memory_limit,
            engine,
            chosen,
            monomials: Arc::new(basis.monomials.clone()),
            pool: Mutex::new(vec![basis]),
        });
        self.plans.lock().unwrap().insert(key, p.clone());
        Ok(p)
    }
}

/// Tensors handed over from Python (name → float64 array).
fn store_from(tensors: Option<&Bound<'_, PyDict>>, label: &str) -> PyResult<Option<TensorStore>> {
    let Some(d) = tensors else { return Ok(None) };
    let mut store = TensorStore {
        path: label.to_string(),
        ..Default::default()
    };
    for (k, v) in d.iter() {
        let name: String = k.extract()?;
        match v.extract::<PyReadonlyArrayDyn<'_, f64>>() {
            Ok(a) => {
                let shape = a.shape().to_vec();
                let data: Vec<f64> = a.as_array().iter().copied().collect();
                store.tensors.insert(name, Tensor { shape, data });
            }
            Err(_) => {
                let dtype = v
                    .getattr("dtype")
                    .and_then(|t| t.str().map(|s| s.to_string()))
                    .unwrap_or_else(|_| "not an array".into());
                store.skipped.insert(name, dtype);
            }
        }
    }
    Ok(Some(store))
}

/// Pick the model of a spec file: an MLP `model`, an `inn`, or an `efnn`, by name or the first.
fn build(
    path_label: &str,
    source: &str,
    base: Option<&Path>,
    name: Option<&str>,
    weights_path: Option<PathBuf>,
    store: Option<TensorStore>,
) -> Res<Inner> {
    let file = lib(feynn::dsl::parse_spec(path_label, source).map_err(feynn::Error::from))?;
    let in_models = file.models.iter().any(|m| Some(m.name.as_str()) == name);
    let in_inns = file.inns.iter().any(|m| Some(m.name.as_str()) == name);
    let in_efnns = file.efnns.iter().any(|m| Some(m.name.as_str()) == name);
    if let Some(n) = name {
        if !(in_models || in_inns || in_efnns) {
            let all: Vec<&str> = file
                .models
                .iter()
                .map(|m| m.name.as_str())
                .chain(file.inns.iter().map(|m| m.name.as_str()))
                .chain(file.efnns.iter().map(|m| m.name.as_str()))
                .collect();
            return Err(input(format!(
                "{path_label} has no model `{n}`\nhelp: models in this file: {}",
                all.join(", ")
            )));
        }
    }
    let store_for = |file_weights: Option<PathBuf>| -> Res<Option<TensorStore>> {
        if store.is_some() {
            return Ok(store.clone());
        }
        match weights_path.clone().or(file_weights) {
            Some(p) => Ok(Some(lib(TensorStore::load(&p))?)),
            None => Ok(None),
        }
    };
    let want_mlp = in_models || (name.is_none() && !file.models.is_empty());
    let want_inn = in_inns || (name.is_none() && file.models.is_empty() && !file.inns.is_empty());
    if want_mlp {
        let models =
            lib(feynn::model::parse_models(path_label, source, base).map_err(feynn::Error::from))?;
        let model = lib(feynn::model::select_model(models, name, path_label))?;
        let store = store_for(model.weights_file.clone())?;
        let net = match &store {
            Some(s) => Some(lib(Network::from_store(&model, s))?),
            None => None,
        };
        return Ok(Inner {
            name: model.name.clone(),
            kind: Kind::Mlp { model, net },
            spec: Some(source.to_string()),
            plans: Mutex::new(HashMap::new()),
        });
    }
    if want_inn {
        let inns = lib(
            feynn::model::inn::parse_inns(path_label, source, base).map_err(feynn::Error::from)
        )?;
        let spec = match name {
            Some(n) => inns.into_iter().find(|m| m.name == n),
            None => inns.into_iter().next(),
        }
        .expect("checked above");
        let store = store_for(spec.weights_file.clone())?;
        let inn: Inn<f64> = lib(spec.resolve(store.as_ref()))?;
        return Ok(Inner {
            name: spec.name.clone(),
            kind: Kind::Inn { spec, inn, store },
            spec: Some(source.to_string()),
            plans: Mutex::new(HashMap::new()),
        });
    }
    let ast = match name {
        Some(n) => file.efnns.iter().find(|m| m.name == n),
        None => file.efnns.first(),
    }
    .ok_or_else(|| {
        input(format!(
            "{path_label} defines no model\nhelp: add `model NAME {{ input D  layer W tanh  output 1 }}`"
        ))
    })?;
    let spec = lib(EfnnSpec::from_ast(&file, ast, base))?;
    let store = store_for(spec.weights_file.clone())?.ok_or_else(|| {
        input(format!(
            "efnn `{}` has no weights\nhelp: give weights= (a file or a state dict) or a `weights` line",
            spec.name
        ))
    })?;
    let net = lib(EfnnNet::new(spec, store.tensors))?;
    Ok(Inner {
        name: net.spec.name.clone(),
        kind: Kind::Efnn(net),
        spec: Some(source.to_string()),
        plans: Mutex::new(HashMap::new()),
    })
}

/// Points from Python: None (the origin), one point (d,), or a batch (P, d).
fn points(at: Option<PyReadonlyArrayDyn<'_, f64>>, d: usize) -> Res<(Vec<Vec<f64>>, bool)> {
    let Some(a) = at else {
        return Ok((vec![vec![0.0; d]], false));
    };
    let v = a.as_array();
    let (pts, batch): (Vec<Vec<f64>>, bool) = match v.ndim() {
        0 if d == 1 => (vec![vec![v.iter().copied().next().unwrap()]], false),
        1 if v.len() == d => (vec![v.iter().copied().collect()], false),
        2 if v.shape()[1] == d => (
            v.outer_iter().map(|r| r.iter().copied().collect()).collect(),
            true,
        ),
        _ => {
            return Err(Raise::new(
                "ShapeError",
                format!(
                    "the expansion point has shape {:?}; the model has {d} inputs\nhelp: give shape ({d},) for one point or (P, {d}) for P points",
                    v.shape()
                ),
            )
            .attr("expected", format!("({d},) or (P, {d})"))
            .attr("found", format!("{:?}", v.shape())))
        }
    };
    for (p, x) in pts.iter().enumerate() {
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(input(format!(
                "coordinate {i} of point {p} is not finite ({})\nhelp: expansion points must be finite numbers",
                x[i]
            )));
        }
    }
    Ok((pts, batch))
}

// ---------------------------------------------------------------------------------------------
// Results

/// Taylor coefficients c_α = ∂^α y/α! (monomial convention) at one point or a batch.
#[pyclass(frozen, module = "feynn._feynn")]
struct Taylor {
    model: String,
    order: usize,
    inputs: usize,
    names: Vec<String>,
    monomials: Arc<Vec<Vec<u32>>>,
    points: Vec<Vec<f64>>,
    batch: bool,
    /// [P, outputs, monomials]
    values: Array3<f64>,
    /// Exact values (rational numbers as `p/q`) of an exact action, `[monomials]`.
    exact: Option<Vec<String>>,
}

fn block_range(monomials: &[Vec<u32>], k: usize) -> std::ops::Range<usize> {
    let start = monomials.partition_point(|m| m.len() < k);
    let end = monomials.partition_point(|m| m.len() <= k);
    start..end
}

#[pymethods]
impl Taylor {
    #[getter]
    fn order(&self) -> usize {
        self.order
    }
    #[getter]
    fn inputs(&self) -> usize {
        self.inputs
    }
    #[getter]
    fn outputs(&self) -> usize {
        self.names.len()
    }
    #[getter]
    fn output_names(&self) -> Vec<String> {
        self.names.clone()
    }
    #[getter]
    fn model(&self) -> String {
        self.model.clone()
    }
    #[getter]
    fn is_batch(&self) -> bool {
        self.batch
    }
    /// The expansion point(s): shape (d,) or (P, d).
    #[getter]
    fn point<'py>(&self, py: Python<'py>) -> Bound<'py, PyArrayDyn<f64>> {
        let p = self.points.len();
        let flat: Vec<f64> = self.points.iter().flatten().copied().collect();
        let shape: Vec<usize> = if self.batch {
            vec![p, self.inputs]
        } else {
            vec![self.inputs]
        };
        ArrayD::from_shape_vec(IxDyn(&shape), flat)
            .unwrap()
            .into_pyarray(py)
    }
    /// The sorted 0-based index tuples, in the order of `values`' last axis.
    #[getter]
    fn monomials<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        self.monomials
            .iter()
            .map(|m| PyTuple::new(py, m.iter()))
            .collect()
    }
    /// All coefficients as one array: (outputs, M), or (P, outputs, M) for a batch.
    #[getter]
    fn values<'py>(&self, py: Python<'py>) -> Bound<'py, PyArrayDyn<f64>> {
        if self.batch {
            self.values.clone().into_dyn().into_pyarray(py)
        } else {
            self.values
                .index_axis(ndarray::Axis(0), 0)
                .to_owned()
                .into_dyn()
                .into_pyarray(py)
        }
    }

    /// dict: sorted index tuple → c_α (a float, or a (P,) array for a batch).
    #[pyo3(signature = (output=0))]
    fn coefficients<'py>(&self, py: Python<'py>, output: usize) -> PyResult<Bound<'py, PyDict>> {
        self.check_output(py, output)?;
        let d = PyDict::new(py);
        for (j, m) in self.monomials.iter().enumerate() {
            let key = PyTuple::new(py, m.iter())?;
            if self.batch {
                let col: Array1<f64> = self.values.slice(ndarray::s![.., output, j]).to_owned();
                d.set_item(key, col.into_pyarray(py))?;
            } else {
                d.set_item(key, self.values[[0, output, j]])?;
            }
        }
        Ok(d)
    }

    /// Exact coefficients (`"p/q"` strings; the constant term's rational part) of an exact action.
    fn exact_strings<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(ex) = &self.exact else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        for (m, v) in self.monomials.iter().zip(ex) {
            d.set_item(PyTuple::new(py, m.iter())?, v)?;
        }
        Ok(Some(d))
    }

    /// The full symmetric derivative tensor ∂^k y (no 1/k!): shape (d,)*k, or (P,)+(d,)*k.
    #[pyo3(signature = (k, output=0))]
    fn tensor<'py>(
        &self,
        py: Python<'py>,
        k: usize,
        output: usize,
    ) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        self.check_output(py, output)?;
        if k > self.order {
            return Err(input(format!(
                "tensor({k}): the expansion has order {}\nhelp: expand to order ≥ {k}",
                self.order
            ))
            .into_py(py));
        }
        let d = self.inputs;
        let entries = (d as f64).powi(k as i32) * self.points.len() as f64;
        if entries > 2e8 {
            return Err(Raise::new(
                "TooLarge",
                format!("tensor({k}) of {d} inputs would hold {entries:.3e} entries\nhelp: read single coefficients with coefficients()"),
            )
            .attr("predicted", format!("{:.1} GiB", entries * 8.0 / 1073741824.0))
            .attr("limit", "1.5 GiB")
            .into_py(py));
        }
        let range = block_range(&self.monomials, k);
        let block = &self.monomials[range.clone()];
        let n: usize = d.pow(k as u32);
        let p = self.points.len();
        // factor α! turns c_α into the derivative
        let facts: Vec<f64> = block
            .iter()
            .map(|m| {
                let mut f = 1.0;
                let mut i = 0;
                while i < m.len() {
                    let mut j = i;
                    while j < m.len() && m[j] == m[i] {
                        j += 1;
                        f *= (j - i) as f64;
                    }
                    i = j;
                }
                f
            })
            .collect();
        let mut pos = vec![0usize; n];
        let mut idx = vec![0u32; k];
        let mut sorted = vec![0u32; k];
        for (flat, slot) in pos.iter_mut().enumerate() {
            let mut r = flat;
            for t in (0..k).rev() {
                idx[t] = (r % d) as u32;
                r /= d;
            }
            sorted.copy_from_slice(&idx);
            sorted.sort_unstable();
            *slot = block
                .binary_search_by(|m| m.as_slice().cmp(&sorted))
                .expect("a sorted index of degree k is in the basis");
        }
        let mut out = Vec::with_capacity(n * p);
        for pt in 0..p {
            for &j in &pos {
                out.push(self.values[[pt, output, range.start + j]] * facts[j]);
            }
        }
        let mut shape = vec![d; k];
        if self.batch {
            shape.insert(0, p);
        }
        Ok(ArrayD::from_shape_vec(IxDyn(&shape), out)
            .unwrap()
            .into_pyarray(py))
    }

    /// The `feynn taylor --format json` document (a list for a batch).
    fn to_json(&self) -> String {
        let docs: Vec<TaylorJson> = (0..self.points.len()).map(|p| self.json(p)).collect();
        if self.batch {
            serde_json::to_string(&docs).unwrap()
        } else {
            serde_json::to_string(&docs[0]).unwrap()
        }
    }

    fn _repr_latex_(&self) -> Option<String> {
        (!self.batch).then(|| feynn::export::taylor_latex(&self.json(0), 6))
    }

    fn __repr__(&self) -> String {
        format!(
            "<feynn Taylor of `{}`: order {}, {} input(s), {} output(s), {} coefficient(s){}>",
            self.model,
            self.order,
            self.inputs,
            self.names.len(),
            self.monomials.len(),
            if self.batch {
                format!(" at each of {} points", self.points.len())
            } else {
                String::new()
            }
        )
    }

    fn __str__(&self) -> String {
        (0..self.points.len())
            .map(|p| feynn::export::taylor_text(&self.json(p), 12))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Taylor {
    fn check_output(&self, py: Python<'_>, output: usize) -> PyResult<()> {
        if output >= self.names.len() {
            return Err(input(format!(
                "output {output}: the model has {} output(s)",
                self.names.len()
            ))
            .into_py(py));
        }
        Ok(())
    }
    fn json(&self, p: usize) -> TaylorJson {
        TaylorJson {
            model: self.model.clone(),
            order: self.order,
            point: self.points[p].clone(),
            inputs: self.inputs,
            outputs: self
                .names
                .iter()
                .enumerate()
                .map(|(o, name)| OutputCoefficients {
                    name: name.clone(),
                    coefficients: self
                        .monomials
                        .iter()
                        .enumerate()
                        .map(|(j, m)| feynn::export::Coefficient {
                            index: m.clone(),
                            value: self.values[[p, o, j]],
                            expr: self.exact.as_ref().map(|e| e[j].clone()),
                        })
                        .collect(),
                })
                .collect(),
            symbols: None,
        }
    }
}

/// A prepared expansion of one order (the monomial basis), for many `taylor` calls.
#[pyclass(frozen, module = "feynn._feynn")]
struct Plan {
    core: Arc<PlanCore>,
}

#[pymethods]
impl Plan {
    #[getter]
    fn order(&self) -> usize {
        self.core.order
    }
    #[getter]
    fn memory_limit(&self) -> f64 {
        self.core.memory_limit
    }
    #[getter]
    fn size(&self) -> usize {
        self.core.monomials.len()
    }
    /// The plan the cost model chose (or the one asked for): diagrams, jets or series.
    #[getter]
    fn engine(&self) -> &'static str {
        self.core.chosen.name()
    }
    fn __repr__(&self) -> String {
        format!(
            "<feynn Plan: order {}, {} monomials, {} ({} asked)>",
            self.core.order,
            self.core.monomials.len(),
            self.core.chosen.name(),
            self.core.engine.name()
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The model

#[pyclass(frozen, module = "feynn._feynn")]
struct Core {
    inner: Arc<Inner>,
}

fn wrap(i: Inner) -> Core {
    Core { inner: Arc::new(i) }
}

#[pymethods]
impl Core {
    /// A model from a spec file; `weights_path` or `tensors` (name → array) override its
    /// `weights` line.
    #[staticmethod]
    #[pyo3(signature = (path, weights_path=None, tensors=None, model=None))]
    fn load(
        py: Python<'_>,
        path: PathBuf,
        weights_path: Option<PathBuf>,
        tensors: Option<&Bound<'_, PyDict>>,
        model: Option<String>,
    ) -> PyResult<Core> {
        let store = store_from(tensors, "<state_dict>")?;
        run(py, move || {
            let source = std::fs::read_to_string(&path).map_err(|e| {
                Raise::from(feynn::Error::Io {
                    path: path.display().to_string(),
                    source: e,
                })
            })?;
            let label = path.display().to_string();
            build(
                &label,
                &source,
                path.parent(),
                model.as_deref(),
                weights_path,
                store,
            )
            .map(wrap)
        })
    }

    /// A model from spec text; relative weight paths resolve against `base` (default: cwd).
    #[staticmethod]
    #[pyo3(signature = (text, weights_path=None, tensors=None, model=None, base=None))]
    fn parse(
        py: Python<'_>,
        text: String,
        weights_path: Option<PathBuf>,
        tensors: Option<&Bound<'_, PyDict>>,
        model: Option<String>,
        base: Option<PathBuf>,
    ) -> PyResult<Core> {
        let store = store_from(tensors, "<state_dict>")?;
        run(py, move || {
            let base = base.unwrap_or_else(|| PathBuf::from("."));
            build(
                "<spec>",
                &text,
                Some(&base),
                model.as_deref(),
                weights_path,
                store,
            )
            .map(wrap)
        })
    }

    /// A model from named tensors: `kind` "mlp" (nn.Sequential names, any prefix) or "inn"
    /// (`{l}.weight/.bias/.alpha/.beta`). The spec is the one `feynn import` writes.
    #[staticmethod]
    #[pyo3(signature = (tensors, kind="mlp", activation=None, output_activation=None, name="net"))]
    fn from_tensors(
        py: Python<'_>,
        tensors: &Bound<'_, PyDict>,
        kind: &str,
        activation: Option<Vec<String>>,
        output_activation: Option<String>,
        name: &str,
    ) -> PyResult<Core> {
        let store = store_from(Some(tensors), "<state_dict>")?.expect("given");
        let (kind, name) = (kind.to_string(), name.to_string());
        run(py, move || {
            let wpath = Path::new("state_dict");
            let text = match kind.as_str() {
                "mlp" => {
                    for a in activation.iter().flatten().chain(output_activation.iter()) {
                        let known = feynn::model::Builtin::from_name(a).is_some()
                            || matches!(a.as_str(), "linear" | "none");
                        if !known {
                            let names: Vec<&str> = feynn::model::Builtin::ALL
                                .iter()
                                .map(|b| b.name())
                                .collect();
                            return Err(Raise::new(
                                "ActivationError",
                                format!(
                                    "unknown activation `{a}`\nhelp: built-ins: {}",
                                    names.join(", ")
                                ),
                            )
                            .attr("activation", a.clone()));
                        }
                    }
                    let act = activation.map(|v| v.join(","));
                    lib(feynn::model::import::spec_for(
                        &store,
                        wpath,
                        &name,
                        act.as_deref(),
                        output_activation.as_deref(),
                        None,
                    ))?
                }
                "inn" => lib(feynn::model::import::inn_spec_for(&store, wpath, &name, None))?,
                other => {
                    return Err(input(format!(
                        "kind `{other}`: from_state_dict reads kind=\"mlp\" or kind=\"inn\"\nhelp: an efnn is read with feynn.parse(spec, weights=state_dict)"
                    )))
                }
            };
            // the spec without its weights line (the tensors are bound here)
            let text: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("weights ") && !l.starts_with("// written"))
                .map(|l| format!("{l}\n"))
                .collect();
            build("<state_dict>", &text, None, None, None, Some(store)).map(wrap)
        })
    }

    #[getter]
    fn name(&self) -> String {
        self.inner.name.clone()
    }
    /// "mlp", "inn" or "efnn".
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind_name()
    }
    #[getter]
    fn spec(&self) -> Option<String> {
        self.inner.spec.clone()
    }
    #[getter]
    fn inputs(&self) -> Option<usize> {
        self.inner.inputs()
    }
    #[getter]
    fn has_weights(&self) -> bool {
        !matches!(self.inner.kind, Kind::Mlp { net: None, .. })
    }
    /// n_0 .. n_L (MLP; None where a width is symbolic and there are no weights).
    #[getter]
    fn widths(&self) -> Option<Vec<usize>> {
        match &self.inner.kind {
            Kind::Mlp { net: Some(n), .. } => Some(n.widths()),
            Kind::Mlp { model, .. } => model.fixed_widths(),
            Kind::Inn { inn, .. } => Some(vec![inn.n; inn.layers.len() + 1]),
            Kind::Efnn(_) => None,
        }
    }
    #[getter]
    fn outputs(&self) -> Option<usize> {
        match &self.inner.kind {
            Kind::Mlp { .. } => self.widths().and_then(|w| w.last().copied()),
            Kind::Inn { inn, .. } => Some(inn.n),
            Kind::Efnn(_) => Some(1),
        }
    }
    /// Activation names per layer (MLP; `None` for a linear layer).
    #[getter]
    fn activations(&self) -> Vec<Option<String>> {
        match &self.inner.kind {
            Kind::Mlp { model, .. } => model
                .layers
                .iter()
                .map(|l| {
                    l.activation.as_ref().map(|a| match a {
                        feynn::model::Activation::Builtin(b) => b.name().to_string(),
                        feynn::model::Activation::Sigma => "sigma".into(),
                        feynn::model::Activation::Custom { name, .. } => name.clone(),
                    })
                })
                .collect(),
            _ => vec![],
        }
    }

    /// Forward pass of a batch x (P, d) (or one point): MLP outputs (P, outputs); inn latent
    /// points (P, N); efnn energies (P,).
    fn forward<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArrayDyn<'py, f64>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let d = self
            .inner
            .inputs()
            .ok_or_else(|| input("the number of inputs is unknown (no weights)").into_py(py))?;
        let (pts, batch) = points(Some(x), d).map_err(|r| r.into_py(py))?;
        let inner = self.inner.clone();
        let out: ArrayD<f64> = run(py, move || -> Res<ArrayD<f64>> {
            let p = pts.len();
            match &inner.kind {
                Kind::Mlp { .. } => {
                    let net = inner.net()?;
                    let o = net.outputs();
                    let mut flat = Vec::with_capacity(p * o);
                    for x in &pts {
                        flat.extend(lib(net.forward(x))?);
                    }
                    let mut shape = vec![o];
                    if batch {
                        shape.insert(0, p);
                    }
                    Ok(ArrayD::from_shape_vec(IxDyn(&shape), flat).unwrap())
                }
                Kind::Inn { inn, .. } => {
                    let flat: Vec<f64> = pts.iter().flat_map(|x| inn.forward(x).z).collect();
                    let mut shape = vec![inn.n];
                    if batch {
                        shape.insert(0, p);
                    }
                    Ok(ArrayD::from_shape_vec(IxDyn(&shape), flat).unwrap())
                }
                Kind::Efnn(net) => {
                    let flat: Vec<f64> = pts.iter().flatten().copied().collect();
                    let x = Array2::from_shape_vec((p, d), flat).unwrap();
                    let e = lib(net.energies(&x))?;
                    Ok(if batch {
                        e.into_dyn()
                    } else {
                        ArrayD::from_elem(IxDyn(&[]), e[0])
                    })
                }
            }
        })?;
        Ok(out.into_pyarray(py))
    }

    /// A prepared expansion of this order (reused by every `taylor` call of the order).
    #[pyo3(signature = (order, memory_limit=DEFAULT_MEMORY_LIMIT, engine="auto"))]
    fn plan(&self, py: Python<'_>, order: usize, memory_limit: f64, engine: &str) -> PyResult<Plan> {
        let engine = Engine::from_name(engine).ok_or_else(|| {
            input(format!(
                "unknown plan `{engine}`\nhelp: use \"auto\", \"diagrams\", \"jets\" or \"series\""
            ))
            .into_py(py)
        })?;
        let inner = self.inner.clone();
        run(py, move || {
            Ok(Plan {
                core: inner.plan(order, memory_limit, engine)?,
            })
        })
    }

    /// Taylor coefficients to `order` at `at` (None: the origin; (d,) one point; (P, d) a batch).
    #[pyo3(signature = (order, at=None, plan=None, memory_limit=DEFAULT_MEMORY_LIMIT))]
    fn taylor(
        &self,
        py: Python<'_>,
        order: usize,
        at: Option<PyReadonlyArrayDyn<'_, f64>>,
        plan: Option<Bound<'_, Plan>>,
        memory_limit: f64,
    ) -> PyResult<Taylor> {
        let d = self.inner.inputs().ok_or_else(|| {
            input(format!("model `{}` has no weights, so there are no numbers to compute\nhelp: give weights= (a file or a state dict), or ask for closed forms with closed_form()", self.inner.name)).into_py(py)
        })?;
        let (pts, batch) = points(at, d).map_err(|r| r.into_py(py))?;
        let plan = plan.map(|p| p.get().core.clone());
        if let Some(p) = &plan {
            if p.order != order {
                return Err(input(format!(
                    "the plan is for order {}, the call asks for order {order}",
                    p.order
                ))
                .into_py(py));
            }
        }
        let inner = self.inner.clone();
        run(py, move || {
            if let Kind::Efnn(net) = &inner.kind {
                return efnn_taylor(net, &pts, batch, order);
            }
            let net = inner.net()?;
            let plan = match plan {
                Some(p) => p,
                None => inner.plan(order, memory_limit, Engine::Auto)?,
            };
            let basis = plan.pool.lock().unwrap().pop();
            let opts = Options {
                order,
                memory_limit: plan.memory_limit,
            };
            let ex = lib(Expander::with_plan_reusing(net, &opts, plan.engine, basis))?;
            let res = if pts.len() == 1 {
                ex.expand(&pts[0]).map(|e| vec![e])
            } else {
                ex.expand_many(&pts)
            };
            plan.pool.lock().unwrap().push(ex.into_basis());
            let exps = lib(res)?;
            let (o, m) = (net.outputs(), plan.monomials.len());
            let mut values = Array3::<f64>::zeros((exps.len(), o, m));
            for (p, e) in exps.iter().enumerate() {
                values
                    .index_axis_mut(ndarray::Axis(0), p)
                    .assign(&e.coefficients);
            }
            Ok(Taylor {
                model: inner.name.clone(),
                order,
                inputs: net.inputs(),
                names: (0..o).map(|i| feynn::export::output_name(i, o)).collect(),
                monomials: plan.monomials.clone(),
                points: pts,
                batch,
                values,
                exact: None,
            })
        })
    }

    /// The unlabelled diagrams of `order`: dicts with tree, automorphisms, index form (text,
    /// LaTeX) and an SVG picture.
    #[pyo3(signature = (order, max_diagrams=100_000))]
    fn diagrams<'py>(
        &self,
        py: Python<'py>,
        order: usize,
        max_diagrams: u64,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let inner = self.inner.clone();
        let list = run(py, move || {
            let model = inner.model()?;
            let h = model.hidden_layers();
            let out_act = model.output_activation().is_some();
            let count = feynn::diagrams::unlabelled_counts(order, h, out_act)[order].clone();
            if count > num_bigint::BigUint::from(max_diagrams) {
                return Err(Raise::new(
                    "TooLarge",
                    format!("order {order} has {count} topologies, above max_diagrams = {max_diagrams}\nhelp: count them with diagram_counts(), or raise max_diagrams"),
                )
                .attr("predicted", format!("{count} diagrams"))
                .attr("limit", max_diagrams.to_string()));
            }
            let l = model.layers.len();
            Ok(feynn::diagrams::unlabelled(order, h, out_act)
                .into_iter()
                .map(|t| {
                    let term = feynn::export::diagrams::index_term(&t, l, "o");
                    let label = format!("1/{}", t.automorphisms);
                    (
                        t.tree.text(),
                        t.automorphisms.to_string(),
                        t.tree.vertices(),
                        term.text(),
                        term.latex(),
                        feynn::export::diagrams::svg(&t.tree, l, &label),
                    )
                })
                .collect::<Vec<_>>())
        })?;
        list.into_iter()
            .map(|(tree, aut, vertices, text, latex, svg)| {
                let d = PyDict::new(py);
                d.set_item("order", order)?;
                d.set_item("tree", tree)?;
                d.set_item("automorphisms", aut.parse::<u128>().unwrap_or(0))?;
                d.set_item("vertices", vertices)?;
                d.set_item("index_form", text)?;
                d.set_item("latex", latex)?;
                d.set_item("svg", svg)?;
                Ok(d)
            })
            .collect()
    }

    /// Labelled and unlabelled diagram counts of every order ≤ `order` (as decimal strings).
    fn diagram_counts(&self, py: Python<'_>, order: usize) -> PyResult<(Vec<String>, Vec<String>)> {
        let inner = self.inner.clone();
        run(py, move || {
            let model = inner.model()?;
            let h = model.hidden_layers();
            let oa = model.output_activation().is_some();
            let s = |v: Vec<num_bigint::BigUint>| v.iter().map(|c| c.to_string()).collect();
            Ok((
                s(feynn::diagrams::labelled_counts(order, h, oa)),
                s(feynn::diagrams::unlabelled_counts(order, h, oa)),
            ))
        })
    }

    /// The LaTeX document of `feynn latex` (rules, diagrams, and the numbers when there are
    /// weights).
    #[pyo3(signature = (order, at=None, max_rows=20, fragment=false))]
    fn latex(
        &self,
        py: Python<'_>,
        order: usize,
        at: Option<PyReadonlyArrayDyn<'_, f64>>,
        max_rows: usize,
        fragment: bool,
    ) -> PyResult<String> {
        let d = self.inner.inputs();
        let pts = match (d, at) {
            (Some(d), at) => Some(points(at, d).map_err(|r| r.into_py(py))?.0),
            (None, Some(_)) => return Err(input("the model has no weights").into_py(py)),
            (None, None) => None,
        };
        let inner = self.inner.clone();
        run(py, move || {
            let model = inner.model()?;
            let numbers = match (&inner.kind, pts) {
                (Kind::Mlp { net: Some(net), .. }, Some(p)) => {
                    let ex = lib(Expander::new(
                        net,
                        &feynn::numeric::Options {
                            order,
                            ..Default::default()
                        },
                    ))?;
                    Some(TaylorJson::from_expansion(
                        &model.name,
                        &lib(ex.expand(&p[0]))?,
                        ex.monomials(),
                    ))
                }
                _ => None,
            };
            let contents = feynn::export::latex::Contents {
                numbers: numbers.as_ref(),
                expanded: None,
                max_rows,
            };
            lib(if fragment {
                feynn::export::latex::body(model, order, &contents)
            } else {
                feynn::export::latex::document(model, order, &contents)
            })
        })
    }

    /// Check a hand-derived claim (`d2y/dx1dx2 = …`): the report as JSON text.
    #[pyo3(signature = (claim, draws=8, seed=1, tolerance=1e-8, symbolic=true))]
    fn check(
        &self,
        py: Python<'_>,
        claim: String,
        draws: usize,
        seed: u64,
        tolerance: f64,
        symbolic: bool,
    ) -> PyResult<(String, String)> {
        let inner = self.inner.clone();
        run(py, move || {
            let model = inner.model()?;
            let c = lib(feynn::check::parse_claim("claim", &claim).map_err(feynn::Error::Spec))?;
            let opts = feynn::check::Options {
                draws: draws.max(1),
                seed,
                tolerance,
                symbolic: symbolic && cfg!(feature = "symbolic"),
            };
            let r = lib(feynn::check::check(model, &c, &opts))?;
            Ok((serde_json::to_string(&r).unwrap(), r.text()))
        })
    }

    /// Expanded closed forms to `order` (Symbolica, on the library's symbolic thread):
    /// (outputs [(name, [(index, sympy text, terms)])], symbol values, widths).
    #[cfg(feature = "symbolic")]
    #[pyo3(signature = (order, at=None, max_terms=feynn::symbolic::MAX_TERMS))]
    #[allow(clippy::type_complexity)]
    fn closed_form(
        &self,
        py: Python<'_>,
        order: usize,
        at: Option<PyReadonlyArrayDyn<'_, f64>>,
        max_terms: f64,
    ) -> PyResult<(
        Vec<(String, Vec<(Vec<u32>, String, usize)>)>,
        BTreeMap<String, f64>,
        Vec<usize>,
    )> {
        let x0 = match (self.inner.inputs(), at) {
            (Some(d), at) => Some(points(at, d).map_err(|r| r.into_py(py))?.0.remove(0)),
            (None, Some(_)) => {
                return Err(input("the model's input width is symbolic; give weights or a fixed width to expand at a point").into_py(py))
            }
            (None, None) => None,
        };
        let inner = self.inner.clone();
        run(py, move || {
            use feynn::symbolic::{closed_forms_for, net_spec, symbol_values, Options, Style};
            let model = inner.model()?;
            let widths = match &inner.kind {
                Kind::Mlp { net: Some(n), .. } => Some(n.widths()),
                _ => model.fixed_widths(),
            };
            let spec = lib(net_spec(model, widths.as_deref(), x0.as_deref()))?;
            let forms = lib(closed_forms_for(
                model,
                &spec,
                order,
                x0.as_deref(),
                &Options {
                    style: Style::Sympy,
                    max_terms,
                    ..Default::default()
                },
            ))?;
            let values = match &inner.kind {
                Kind::Mlp { net: Some(n), .. } => symbol_values(model, n, x0.as_deref()),
                _ => BTreeMap::new(),
            };
            Ok((
                forms
                    .outputs
                    .into_iter()
                    .map(|o| {
                        (
                            o.name,
                            o.coefficients
                                .into_iter()
                                .map(|c| (c.index, c.expr, c.terms))
                                .collect(),
                        )
                    })
                    .collect(),
                values,
                forms.widths,
            ))
        })
    }

    /// The action S = −ln p of an invertible network to `order` at `at`, in the monomial
    /// convention (S(x0+δ) = Σ c_α δ^α); `exact` adds the rational values.
    #[pyo3(signature = (order=4, at=None, exact=false, logdet=true, memory_limit=DEFAULT_MEMORY_LIMIT))]
    fn action(
        &self,
        py: Python<'_>,
        order: usize,
        at: Option<PyReadonlyArrayDyn<'_, f64>>,
        exact: bool,
        logdet: bool,
        memory_limit: f64,
    ) -> PyResult<Taylor> {
        let n = self.inner.inputs().unwrap_or(0);
        let (pts, batch) = points(at, n).map_err(|r| r.into_py(py))?;
        if batch && exact {
            return Err(input("exact=True takes one point").into_py(py));
        }
        let inner = self.inner.clone();
        run(py, move || {
            let (spec, inn, store) = inner.inn()?;
            let opts = ActionOptions {
                order,
                logdet,
                memory_limit,
                keep_stages: false,
            };
            let mut monomials = None;
            let mut rows = Vec::new();
            for x0 in &pts {
                let a = lib(action(inn, x0, &opts))?;
                let ms = a.monomials();
                rows.push(
                    ms.iter()
                        .map(|idx| {
                            if idx.is_empty() {
                                a.a0()
                            } else {
                                a.entry(idx) * multinomial(idx) as f64
                            }
                        })
                        .collect::<Vec<f64>>(),
                );
                monomials.get_or_insert(ms);
            }
            let monomials = monomials.unwrap_or_default();
            let exact_vals = if exact {
                let ie: Inn<BigRational> = lib(spec.resolve(store))?;
                let x0: Vec<BigRational> = pts[0]
                    .iter()
                    .map(|v| BigRational::from_float(*v).expect("finite"))
                    .collect();
                let a = lib(action(&ie, &x0, &opts))?;
                Some(
                    monomials
                        .iter()
                        .map(|idx| {
                            let v = a.entry(idx).clone()
                                * BigRational::from_integer((multinomial(idx) as i64).into());
                            v.show()
                        })
                        .collect(),
                )
            } else {
                None
            };
            let m = monomials.len();
            let p = rows.len();
            let values =
                Array3::from_shape_vec((p, 1, m), rows.into_iter().flatten().collect()).unwrap();
            Ok(Taylor {
                model: inner.name.clone(),
                order,
                inputs: inn.n,
                names: vec!["S".into()],
                monomials: Arc::new(monomials),
                points: pts,
                batch,
                values,
                exact: exact_vals,
            })
        })
    }

    /// ln p(x) of an invertible network (exact, change of variables); NaN off the branch.
    fn log_prob<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArrayDyn<'py, f64>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let n = self.inner.inputs().unwrap_or(0);
        let (pts, batch) = points(Some(x), n).map_err(|r| r.into_py(py))?;
        let inner = self.inner.clone();
        let v = run(py, move || {
            let (_, inn, _) = inner.inn()?;
            Ok(pts
                .iter()
                .map(|x| inn.exact_action(x).map_or(f64::NAN, |s| -s))
                .collect::<Vec<f64>>())
        })?;
        Ok(if batch {
            Array1::from(v).into_dyn().into_pyarray(py)
        } else {
            ArrayD::from_elem(IxDyn(&[]), v[0]).into_pyarray(py)
        })
    }

    /// `n` samples of an invertible network (latent draws through the inverse), shape (n, N).
    #[pyo3(signature = (n, seed=0))]
    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        seed: u64,
    ) -> PyResult<(Bound<'py, PyArray2<f64>>, usize)> {
        let inner = self.inner.clone();
        let (pts, rejected, dim) = run(py, move || {
            let (_, inn, _) = inner.inn()?;
            let (pts, rejected) = inn.sample(n, seed);
            if pts.len() < n {
                return Err(input(format!("only {} of {n} latent draws had a pre-image ({rejected} rejected)\nhelp: the network's invertible branch holds almost no latent mass", pts.len())));
            }
            Ok((pts, rejected, inn.n))
        })?;
        let flat: Vec<f64> = pts.into_iter().flatten().collect();
        Ok((
            Array2::from_shape_vec((n, dim), flat)
                .unwrap()
                .into_pyarray(py),
            rejected,
        ))
    }

    /// The bound parameters under the names feynn reads (float64 arrays, copied).
    fn state_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let put = |name: String, shape: Vec<usize>, data: Vec<f64>| -> PyResult<()> {
            d.set_item(
                name,
                ArrayD::from_shape_vec(IxDyn(&shape), data)
                    .unwrap()
                    .into_pyarray(py),
            )
        };
        match &self.inner.kind {
            Kind::Mlp { net: Some(net), .. } => {
                for (l, (w, b)) in net.weights.iter().zip(&net.biases).enumerate() {
                    put(
                        format!("{}.weight", 2 * l),
                        w.shape().to_vec(),
                        w.iter().copied().collect(),
                    )?;
                    put(format!("{}.bias", 2 * l), vec![b.len()], b.to_vec())?;
                }
            }
            Kind::Mlp { net: None, .. } => {
                return Err(input("the model has no weights").into_py(py));
            }
            Kind::Inn { inn, spec, .. } => {
                let n = inn.n;
                for (l, (layer, ls)) in inn.layers.iter().zip(&spec.layers).enumerate() {
                    put(format!("{l}.weight"), vec![n, n], layer.w.clone())?;
                    put(format!("{l}.bias"), vec![n], layer.b.clone())?;
                    if ls.uses_alpha() {
                        put(
                            format!("{l}.alpha"),
                            vec![n],
                            layer.phi.iter().map(|c| c[2]).collect(),
                        )?;
                    }
                    if matches!(ls.phi, feynn::model::inn::Phi::Cubic) {
                        put(
                            format!("{l}.beta"),
                            vec![n],
                            layer.phi.iter().map(|c| c[3]).collect(),
                        )?;
                    }
                }
            }
            Kind::Efnn(net) => {
                for (k, t) in &net.tensors {
                    put(k.clone(), t.shape.clone(), t.data.clone())?;
                }
            }
        }
        Ok(d)
    }

    /// The Python source of a PyTorch module for this model (`feynn export torch`).
    #[pyo3(signature = (weights=None))]
    fn torch_source(&self, py: Python<'_>, weights: Option<String>) -> PyResult<String> {
        let inner = self.inner.clone();
        run(py, move || {
            let w = weights.as_deref();
            lib(match &inner.kind {
                Kind::Mlp { model, net } => {
                    let widths = match net {
                        Some(n) => n.widths(),
                        None => model
                            .fixed_widths()
                            .ok_or_else(|| input("the model has symbolic widths and no weights"))?,
                    };
                    feynn::export::torch::mlp_module(model, &widths, w, inner.spec.as_deref())
                }
                Kind::Inn { spec, .. } => {
                    feynn::export::torch::inn_module(spec, w, inner.spec.as_deref())
                }
                Kind::Efnn(net) => {
                    feynn_studies::torch::efnn_module(&net.spec, w, inner.spec.as_deref())
                }
            })
        })
    }

    fn __repr__(&self) -> String {
        let shape = match (&self.inner.kind, self.widths()) {
            (Kind::Efnn(e), _) => format!("arch {}, depth {}", e.spec.arch.name(), e.spec.depth),
            (_, Some(w)) => w
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(" → "),
            _ => "symbolic widths".into(),
        };
        format!(
            "<feynn {} `{}`: {}{}>",
            self.inner.kind_name(),
            self.inner.name,
            shape,
            if self.has_weights() {
                ""
            } else {
                ", no weights"
            }
        )
    }
}

fn efnn_taylor(net: &EfnnNet, pts: &[Vec<f64>], batch: bool, order: usize) -> Res<Taylor> {
    let mut monomials = None;
    let mut rows = Vec::new();
    for x in pts {
        let e = lib(TaylorExpansion::of_net(net, x, order))?;
        monomials.get_or_insert_with(|| e.basis.monomials.clone());
        rows.extend(e.coefficients);
    }
    let monomials = monomials.unwrap_or_default();
    let m = monomials.len();
    Ok(Taylor {
        model: net.spec.name.clone(),
        order,
        inputs: pts.first().map_or(0, |p| p.len()),
        names: vec!["E".into()],
        monomials: Arc::new(monomials),
        points: pts.to_vec(),
        batch,
        values: Array3::from_shape_vec((pts.len(), 1, m), rows).unwrap(),
        exact: None,
    })
}

/// The PyTorch module text for the model `model` of spec text (`feynn export torch`).
#[pyfunction]
#[pyo3(signature = (source, label="<spec>".to_string(), base=None, model=None))]
fn torch_module_source(
    py: Python<'_>,
    source: String,
    label: String,
    base: Option<PathBuf>,
    model: Option<String>,
) -> PyResult<String> {
    run(py, move || {
        lib(feynn_studies::torch::module_for_spec(
            &label,
            &source,
            base.as_deref(),
            model.as_deref(),
        ))
    })
}

/// Whether this build has closed forms (the `symbolic` feature).
#[pyfunction]
fn has_symbolic() -> bool {
    cfg!(feature = "symbolic")
}

/// The built-in activation names.
#[pyfunction]
fn builtin_activations() -> Vec<&'static str> {
    feynn::model::Builtin::ALL
        .iter()
        .map(|b| b.name())
        .collect()
}

#[pymodule]
fn _feynn(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Core>()?;
    m.add_class::<Taylor>()?;
    m.add_class::<Plan>()?;
    m.add_function(wrap_pyfunction!(has_symbolic, m)?)?;
    m.add_function(wrap_pyfunction!(torch_module_source, m)?)?;
    m.add_function(wrap_pyfunction!(builtin_activations, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
