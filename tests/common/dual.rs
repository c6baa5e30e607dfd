//! An independent nested dual-number implementation (forward-mode AD), written for the tests
//! only: it shares no code with the library's jets or Taylor-mode propagation.
//!
//! `Dual<T>` is `re + eps·ε` with ε² = 0; `T` is `f64` or another `Dual`, so
//! `Dual<Dual<Dual<Dual<f64>>>>` carries four independent infinitesimals ε1..ε4 and its
//! ε1ε2ε3ε4 part is a mixed fourth derivative. Every function follows the chain rule
//! f(a + bε) = f(a) + b·f'(a)·ε, applied recursively on `T`.

#![allow(dead_code)]

use std::ops::{Add, Div, Mul, Neg, Sub};

/// What the forward pass needs of a number type.
pub trait Scalar:
    Clone
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// A constant (every infinitesimal part zero).
    fn cst(v: f64) -> Self;
    /// The variable `x + dirs[0]·ε1 + dirs[1]·ε2 + …`, one direction per nesting level.
    fn var(x: f64, dirs: &[f64]) -> Self;
    /// The coefficient selected by `mask`: level i contributes its ε part where mask[i], its
    /// real part otherwise. All-false gives the value, all-true the mixed derivative.
    fn part(&self, mask: &[bool]) -> f64;
    fn exp(&self) -> Self;
    fn ln(&self) -> Self;
    fn sqrt(&self) -> Self;
    fn sin(&self) -> Self;
    fn cos(&self) -> Self;
    fn tanh(&self) -> Self;
    fn sigmoid(&self) -> Self;
    /// ln(1 + e^x).
    fn softplus(&self) -> Self;
    fn erf(&self) -> Self;
    fn powi(&self, n: i32) -> Self;
    fn scale(&self, s: f64) -> Self {
        self.clone() * Self::cst(s)
    }
    fn add_cst(&self, s: f64) -> Self {
        self.clone() + Self::cst(s)
    }
}

impl Scalar for f64 {
    fn cst(v: f64) -> Self {
        v
    }
    fn var(x: f64, dirs: &[f64]) -> Self {
        assert!(dirs.is_empty(), "more directions than nesting levels");
        x
    }
    fn part(&self, mask: &[bool]) -> f64 {
        assert!(mask.is_empty());
        *self
    }
    fn exp(&self) -> Self {
        f64::exp(*self)
    }
    fn ln(&self) -> Self {
        f64::ln(*self)
    }
    fn sqrt(&self) -> Self {
        f64::sqrt(*self)
    }
    fn sin(&self) -> Self {
        f64::sin(*self)
    }
    fn cos(&self) -> Self {
        f64::cos(*self)
    }
    fn tanh(&self) -> Self {
        f64::tanh(*self)
    }
    fn sigmoid(&self) -> Self {
        if *self >= 0.0 {
            1.0 / (1.0 + (-*self).exp())
        } else {
            let e = self.exp();
            e / (1.0 + e)
        }
    }
    fn softplus(&self) -> Self {
        // ln(1 + e^x) = max(x, 0) + ln(1 + e^{-|x|}), without overflow.
        self.max(0.0) + (-self.abs()).exp().ln_1p()
    }
    fn erf(&self) -> Self {
        libm::erf(*self)
    }
    fn powi(&self, n: i32) -> Self {
        f64::powi(*self, n)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dual<T> {
    pub re: T,
    pub eps: T,
}

impl<T: Scalar> Dual<T> {
    fn chain(&self, value: T, derivative: T) -> Self {
        Dual {
            re: value,
            eps: self.eps.clone() * derivative,
        }
    }
}

impl<T: Scalar> Add for Dual<T> {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Dual {
            re: self.re + o.re,
            eps: self.eps + o.eps,
        }
    }
}
impl<T: Scalar> Sub for Dual<T> {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        Dual {
            re: self.re - o.re,
            eps: self.eps - o.eps,
        }
    }
}
impl<T: Scalar> Mul for Dual<T> {
    type Output = Self;
    fn mul(self, o: Self) -> Self {
        Dual {
            re: self.re.clone() * o.re.clone(),
            eps: self.re * o.eps + self.eps * o.re,
        }
    }
}
impl<T: Scalar> Div for Dual<T> {
    type Output = Self;
    fn div(self, o: Self) -> Self {
        // (a + bε)/(c + dε) = a/c + (b c - a d)/c² ε
        let q = self.re.clone() / o.re.clone();
        Dual {
            eps: (self.eps - q.clone() * o.eps) / o.re,
            re: q,
        }
    }
}
impl<T: Scalar> Neg for Dual<T> {
    type Output = Self;
    fn neg(self) -> Self {
        Dual {
            re: -self.re,
            eps: -self.eps,
        }
    }
}

impl<T: Scalar> Scalar for Dual<T> {
    fn cst(v: f64) -> Self {
        Dual {
            re: T::cst(v),
            eps: T::cst(0.0),
        }
    }
    fn var(x: f64, dirs: &[f64]) -> Self {
        // x + d0 ε1 + (d1 ε2 + …): the ε1 part is the constant d0 of the inner ring.
        Dual {
            re: T::var(x, &dirs[1..]),
            eps: T::cst(dirs[0]),
        }
    }
    fn part(&self, mask: &[bool]) -> f64 {
        if mask[0] {
            self.eps.part(&mask[1..])
        } else {
            self.re.part(&mask[1..])
        }
    }
    fn exp(&self) -> Self {
        let e = self.re.exp();
        self.chain(e.clone(), e)
    }
    fn ln(&self) -> Self {
        self.chain(self.re.ln(), T::cst(1.0) / self.re.clone())
    }
    fn sqrt(&self) -> Self {
        let r = self.re.sqrt();
        self.chain(r.clone(), T::cst(0.5) / r)
    }
    fn sin(&self) -> Self {
        self.chain(self.re.sin(), self.re.cos())
    }
    fn cos(&self) -> Self {
        self.chain(self.re.cos(), -self.re.sin())
    }
    fn tanh(&self) -> Self {
        let t = self.re.tanh();
        self.chain(t.clone(), T::cst(1.0) - t.clone() * t)
    }
    fn sigmoid(&self) -> Self {
        let s = self.re.sigmoid();
        self.chain(s.clone(), s.clone() * (T::cst(1.0) - s))
    }
    fn softplus(&self) -> Self {
        self.chain(self.re.softplus(), self.re.sigmoid())
    }
    fn erf(&self) -> Self {
        let a = self.re.clone();
        let g = (-(a.clone() * a.clone()))
            .exp()
            .scale(std::f64::consts::FRAC_2_SQRT_PI);
        self.chain(a.erf(), g)
    }
    fn powi(&self, n: i32) -> Self {
        if n == 0 {
            return Self::cst(1.0);
        }
        self.chain(self.re.powi(n), self.re.powi(n - 1).scale(n as f64))
    }
}

/// Four nested infinitesimals: mixed derivatives up to order 4.
pub type D4 = Dual<Dual<Dual<Dual<f64>>>>;

/// One to six nested infinitesimals: mixed derivatives up to order 6.
pub type D1 = Dual<f64>;
pub type D2 = Dual<D1>;
pub type D3 = Dual<D2>;
pub type D5 = Dual<D4>;
pub type D6 = Dual<D5>;
