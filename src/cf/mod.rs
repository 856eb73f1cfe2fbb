//! CF conventions shared by the layers that read meaning into an index: the calendars and
//! `<unit> since <date>` time axes (STAC time extents, joining members along time), longitudes
//! and the rotated pole (STAC extents, quick-look maps). Imports nothing of ours.

pub mod calendar;
pub mod geo;
pub mod time_axis;
