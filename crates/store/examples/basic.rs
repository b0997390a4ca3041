//! Run with `cargo run -p portcullis-store --example basic`.
//!
//! Opens an in-memory SQLite store, creates users and groups, tags a user, and prints
//! what the groupfinder answers: the principals a Pyramid-style ACL is checked against.

use portcullis_store::{NewUser, Store, Tag, TagMatch};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open("sqlite::memory:").await?;

    // The users and groups of the Pyramid "simpleauth" recipe.
    let generic = store
        .create_user(
            NewUser::new("genericuser")
                .email("generic@example.org")
                .password("correct horse battery staple"),
        )
        .await?;
    let superuser = store
        .create_user(NewUser::new("superuser").email("super@example.org"))
        .await?;
    store.create_group("basic", "entry level").await?;
    store.create_group("secured", "top secret").await?;
    store.add_member(generic.id, "basic").await?;
    store.add_member(superuser.id, "secured").await?;
    store.grant_permission("secured", "topsecret").await?;

    // py4web-style hierarchical tags.
    store
        .add_tags(
            "users",
            generic.id,
            &[Tag::new("teacher/high-school/physics")?],
        )
        .await?;
    let teachers = store
        .find_tagged("users", &[Tag::new("teacher")?], TagMatch::All)
        .await?;

    for user in [&generic, &superuser] {
        let principals = store.principals_for(user.id).await?;
        let permissions = store.permissions_for(user.id).await?;
        println!(
            "{:<12} principals={:?} permissions={:?}",
            user.username,
            principals.as_deref().unwrap_or_default(),
            permissions
        );
    }
    println!("tagged teacher (or below): {teachers:?}");

    // A blocked user's still-valid cookie authenticates nobody.
    store.block_user(superuser.id).await?;
    println!(
        "superuser after blocking: {:?}",
        store.principals_for(superuser.id).await?
    );

    // Login: the password is checked with argon2id; a wrong one gives None.
    let ok = store
        .verify_password("genericuser", "correct horse battery staple")
        .await?;
    println!("login genericuser: {}", ok.is_some());
    Ok(())
}
