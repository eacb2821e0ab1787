package sc.fiji.sd.ij1;

import java.awt.Choice;
import java.awt.Component;
import java.awt.Container;
import java.awt.EventQueue;
import java.awt.TextField;
import java.awt.event.ActionEvent;
import java.awt.event.ItemEvent;
import java.io.File;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import ij.IJ;
import ij.ImageJ;
import ij.gui.GenericDialog;
import sc.fiji.sd.hub.CancelToken;
import sc.fiji.sd.hub.DownloadListener;
import sc.fiji.sd.hub.FakeHub;
import sc.fiji.sd.hub.HubClient;
import sc.fiji.sd.hub.RepoId;
import sc.fiji.sd.imagej.ModelDownloads;
import sc.fiji.sd.imagej.Settings;
import sc.fiji.sd.model.EmbeddedModel;

/**
 * The model drop-down of the Settings dialog (of the Text to Image dialog with {@code -Dsd.textToImage=true}) in a
 * real ImageJ 1.x under Xvfb, after a download into the hub cache that
 * {@code HF_HUB_CACHE} names: prints the entries, picks the download and prints what the model field then holds;
 * with an output folder, also takes the README screenshot. Run by DownloadUnderXvfbTest and
 * {@code tools/screenshots/screenshots.sh}; not a test itself.
 */
public final class ModelChooserUnderXvfb {

	public static void main(String[] args) throws Exception {
		Path cache = Path.of(System.getenv("HF_HUB_CACHE"));
		try (FakeHub hub = new FakeHub(Path.of("models", EmbeddedModel.NAME), "")) {
			new HubClient(hub.environment(cache)).download(RepoId.parse(FakeHub.REPO, null), DownloadListener.NONE, new CancelToken());
		}
		new ImageJ();
		new Settings("", "cpu", 0).save();
		IJ.wait(1000);
		boolean text = Boolean.getBoolean("sd.textToImage");
		Thread user = new Thread(() -> {
			if (text) new TextToImagePlugin().run("");
			else new SettingsPlugin().run("");
		}, "Stable Diffusion dialog");
		user.start();
		GenericDialog gd = RecordingUnderXvfb.waitForDialog();
		Choice chooser = find(gd, text ? ModelChooser.AS_IN_SETTINGS : ModelDownloads.SHIPPED);
		// the model field, by its label (fields are added to the dialogs over time: positions move)
		TextField field = DialogFields.after(gd, "Model folder", TextField.class);
		for (int i = 0; i < chooser.getItemCount(); i++) System.out.println("ENTRY " + chooser.getItem(i));
		System.out.println("SELECTED " + chooser.getSelectedItem());
		EventQueue.invokeAndWait(() -> {
			chooser.select(1);
			for (var l : chooser.getItemListeners())
				l.itemStateChanged(new ItemEvent(chooser, ItemEvent.ITEM_STATE_CHANGED, chooser.getItem(1),
					ItemEvent.SELECTED));
		});
		IJ.wait(500);
		System.out.println("FIELD " + field.getText());
		if (args.length > 0) {
			IJ.getInstance().setVisible(false); // the dialog alone in the picture
			EventQueue.invokeAndWait(() -> {
				gd.setLocation(0, 0);
				gd.toFront();
			});
			IJ.wait(800);
			var bounds = gd.getBounds();
			File png = new File(args[0], text ? "dialog-model-chooser.png" : "model-chooser.png");
			ImageIO.write(new java.awt.Robot().createScreenCapture(bounds), "png", png);
			System.out.println("wrote " + png);
		}
		EventQueue.invokeAndWait(() -> gd.actionPerformed(new ActionEvent(gd.getButtons()[1],
			ActionEvent.ACTION_PERFORMED, "Cancel")));
		user.join(30_000);
		System.exit(0);
	}

	private static Choice find(Container c, String first) {
		for (Component child : c.getComponents()) {
			if (child instanceof Choice choice && choice.getItemCount() > 0
				&& choice.getItem(0).equals(first)) return choice;
			if (child instanceof Container inner) {
				Choice found = find(inner, first);
				if (found != null) return found;
			}
		}
		return null;
	}
}
