//! The traversal fields' way to the engine's result cache: a canonical
//! question in, a renderable answer (and whether it was cached) out.

use std::sync::Arc;

use super::entities::Read;
use super::traversal::GraphState;
use crate::cache::{Answer, Question};
use crate::engine::{BranchView, Engine};
use crate::error::{Error, Result};
use crate::graph;

/// An answer ready to render.
pub struct Rendered {
    pub answer: Answer,
    pub at: Arc<GraphState>,
    pub cached: bool,
}

pub async fn answer(ctx: &async_graphql::Context<'_>, view: &BranchView, question: Question) -> Result<Rendered> {
    let engine = ctx.data_unchecked::<Engine>();
    let answered = engine.answer(view, question).await?;
    if !answered.cached {
        if let Some(computed) = ctx.data_opt::<super::responses::Computed>() {
            computed.mark();
        }
    }
    let state = &view.state;
    // A hit on a state whose graph is not built (a past state dropped
    // from the history) must not build it here, on the async worker.
    let at = Arc::new(GraphState { graph: engine.graph_of(state).await?, at: Read::of(view) });
    Ok(Rendered { answer: answered.answer, at, cached: answered.cached })
}

fn mismatch() -> Error {
    Error::internal(anyhow::anyhow!("the cache returned an answer of another kind"))
}

impl Rendered {
    pub fn traversal(&self) -> Result<Arc<graph::Traversal>> {
        match &self.answer {
            Answer::Traversal(t) => Ok(t.clone()),
            _ => Err(mismatch()),
        }
    }

    pub fn path(&self) -> Result<Option<graph::Path>> {
        match &self.answer {
            Answer::Path(p) => Ok(p.as_ref().clone()),
            _ => Err(mismatch()),
        }
    }

    pub fn paths(&self) -> Result<Vec<graph::Path>> {
        match &self.answer {
            Answer::Paths(ps) => Ok(ps.as_ref().clone()),
            _ => Err(mismatch()),
        }
    }

    pub fn reachable(&self) -> Result<bool> {
        match &self.answer {
            Answer::Reachable(b) => Ok(*b),
            _ => Err(mismatch()),
        }
    }
}
